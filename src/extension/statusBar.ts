// The status-bar alert: hidden while every shown process is OK; otherwise the most severe diagnosis
// (OOM risk > Mem-thrashing > Starved > Noisy neighbor > CPU-bound), with a warning background for OOM risk.
import * as vscode from 'vscode';
import { alertOf, formatDuration, summarize } from '../shared/classifier';
import type { Diagnosis } from '../shared/diagnosis';
import { plainText } from '../shared/format';
import type { Update } from './monitor';
import { statusBarText } from './safeText';

export class AlertStatusItem implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(
    'hotspot.alert',
    vscode.StatusBarAlignment.Left,
    50,
  );
  /** The process the item is about (the click reveals it). */
  current?: Diagnosis;

  constructor() {
    this.item.name = 'Hotspot Alert';
    this.item.command = 'hotspot.revealAlert';
  }

  update(u: Update | undefined): void {
    const d = u ? alertOf({ ...u.report, diagnoses: u.shown }) : undefined;
    this.current = d;
    if (!d) {
      this.item.hide();
      return;
    }
    const tto = d.timeToOomSec !== null ? ` · ~${formatDuration(d.timeToOomSec)} to OOM` : '';
    const icon = d.label === 'OOM risk' ? '$(warning)' : '$(pulse)';
    const comm = plainText(d.comm);
    // The icon is ours; the name is not, so its `$(` cannot become a codicon.
    this.item.text = `${icon} ${d.label}: ${statusBarText(d.comm)} (${d.tgid})${tto}`;
    this.item.tooltip = `Hotspot: ${comm} (${d.tgid}) — ${d.label}\n${summarize(d)}\nClick to show it in the Diagnoses view.`;
    this.item.backgroundColor =
      d.label === 'OOM risk' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.accessibilityInformation = {
      label: `Hotspot alert: ${d.label} for ${comm} process ${d.tgid}`,
    };
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
