// The status-bar alert: the most severe diagnosis in view (OOM risk > Mem-thrashing > Starved > Noisy neighbor >
// CPU-bound), with an error background for an urgent OOM risk and a warning one for a slow leak hours from its
// limit (which never displaces an urgent one). An OOM risk anywhere on the machine wins even while the view
// is narrowed (a filter to the debuggee must not hide it). Once an OOM risk ended, a second item keeps
// "was at OOM risk until 14:02 (exited)" for a while, whatever else is alerting, so the episode is not lost.
import * as vscode from 'vscode';
import type { Diagnosis } from '../shared/diagnosis/model';
import { formatDuration } from '../shared/format';
import { cause } from '../shared/presentation/explain';
import type { Episode } from '../shared/presentation/timeline';
import { chooseAlert } from './alertChoice';
import type { Update } from './monitor';
import { processName } from './report';
import { statusBarText } from './safeText';

/** How long an ended OOM risk stays in the status bar. */
const PAST_MS = 15 * 60_000;

export class AlertStatusItem implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(
    'hotspot.alert',
    vscode.StatusBarAlignment.Left,
    50,
  );
  private readonly past = vscode.window.createStatusBarItem(
    'hotspot.pastAlert',
    vscode.StatusBarAlignment.Left,
    49,
  );
  /** The process the item is about (the click reveals it). */
  current?: Diagnosis;

  constructor() {
    this.item.name = 'Hotspot Alert';
    this.past.name = 'Hotspot: Past OOM Risk';
    this.past.command = 'hotspot.showTimeline';
  }

  /** `urgent`: whether an OOM risk leaves little time (isUrgent): those take the error colour, slower ones the warning. */
  update(u: Update | undefined, ended?: Episode, urgent: (d: Diagnosis) => boolean = () => true): void {
    const choice = u ? chooseAlert(u.report, u.shown, u.context, u.editor, urgent) : undefined;
    const d = choice?.d;
    const outside = choice?.outside ?? false;
    this.current = d;
    this.showEnded(u ? ended : undefined);
    if (!d) {
      this.item.hide();
      return;
    }
    const tto = d.timeToOomSec !== null ? ` · ~${formatDuration(d.timeToOomSec)} to OOM` : '';
    const icon = d.label === 'OOM risk' ? '$(warning)' : '$(pulse)';
    // The icon is ours; the name is not, so its `$(` cannot become a codicon.
    this.item.text = `${icon} ${d.label}: ${statusBarText(processName(d))}${tto}`;
    this.item.tooltip = [
      `Hotspot: ${processName(d)} — ${d.label}`,
      cause(d),
      outside ? 'It is outside the current view (filter or scope).' : '',
      'Click to show it in the Diagnoses view.',
    ]
      .filter(Boolean)
      .join('\n');
    this.item.command = 'hotspot.revealAlert';
    this.item.backgroundColor =
      d.label !== 'OOM risk'
        ? undefined
        : new vscode.ThemeColor(
            urgent(d) ? 'statusBarItem.errorBackground' : 'statusBarItem.warningBackground',
          );
    this.item.accessibilityInformation = {
      label: `Hotspot alert: ${d.label} for ${processName(d)}`,
    };
    this.item.show();
  }

  /** "was at OOM risk until 14:02 (exited)": the end of an alert is news too, for PAST_MS after it ended. */
  private showEnded(e: Episode | undefined): void {
    if (!e || e.end === undefined || Date.now() - e.end > PAST_MS) {
      this.past.hide();
      return;
    }
    // One clock format everywhere (the view's message, the dashboard, the timeline): the locale's, with seconds.
    const until = new Date(e.last).toLocaleTimeString();
    const how = e.exited ? ' (exited)' : '';
    this.past.text = `$(history) ${statusBarText(processName(e))} was at OOM risk until ${until}${how}`;
    this.past.tooltip = `Hotspot: ${processName(e)} was at OOM risk from ${new Date(e.start).toLocaleTimeString()} to ${new Date(e.last).toLocaleTimeString()}${how}.\n${e.cause}\nClick to see the alert timeline.`;
    this.past.accessibilityInformation = { label: this.past.text.replace('$(history) ', 'Hotspot: ') };
    this.past.show();
  }

  dispose(): void {
    this.item.dispose();
    this.past.dispose();
  }
}
