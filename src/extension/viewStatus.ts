// What the Diagnoses view says about the session itself: its state and how old the figures are. The view's
// description is not shown when it is the only view of its container, so the state goes into the title
// ("Diagnoses — live") and the message line above the rows; the age ticks every second, and rows are marked stale
// while the helper restarts or when windows stop arriving.
import type * as vscode from 'vscode';
import { formatDuration } from '../shared/format';
import type { Monitor, MonitorState } from './monitor';
import type { Settings } from './settings';
import type { DiagnosesTree } from './tree';

export const STATE_TEXT: Record<MonitorState, string> = {
  stopped: 'stopped',
  starting: 'starting the eBPF helper…',
  running: 'live (eBPF)',
  restarting: 'restarting the helper…',
  degraded: 'degraded mode (/proc)',
  replaying: 'replaying a recorded session',
};

const TITLE: Record<MonitorState, string> = {
  stopped: 'Diagnoses',
  starting: 'Diagnoses — starting',
  running: 'Diagnoses — live',
  restarting: 'Diagnoses — restarting',
  degraded: 'Diagnoses — degraded',
  replaying: 'Diagnoses — replay',
};

/** Windows in a row with nothing to show before the view says so (one empty window is often just a lull). */
const EMPTY_WINDOWS = 2;

export class ViewStatus implements vscode.Disposable {
  private readonly timer: NodeJS.Timeout;
  private receivedAt?: number;
  private emptyWindows = 0;

  constructor(
    private readonly view: vscode.TreeView<unknown>,
    private readonly m: Monitor,
    private readonly tree: DiagnosesTree,
    private readonly settings: () => Settings,
  ) {
    this.timer = setInterval(() => this.render(), 1000);
  }

  /** A window was published (or re-published after a filter change). */
  windowArrived(fresh: boolean): void {
    if (fresh) this.receivedAt = Date.now();
    this.emptyWindows = this.m.last?.shown.length ? 0 : this.emptyWindows + (fresh ? 1 : 0);
    this.render();
  }

  sessionChanged(): void {
    if (this.m.state === 'stopped' || this.m.state === 'starting') {
      this.receivedAt = undefined;
      this.emptyWindows = 0;
    }
    this.render();
  }

  /** Seconds since the last window, or undefined when none arrived in this session. */
  get age(): number | undefined {
    return this.receivedAt === undefined ? undefined : (Date.now() - this.receivedAt) / 1000;
  }

  render(): void {
    const m = this.m;
    const f = m.filter;
    const interval = this.settings().intervalMs / 1000;
    const age = this.age;
    const live = m.state === 'running' || m.state === 'degraded';
    const stale =
      age !== undefined && (m.state === 'restarting' || (live && age > Math.max(3 * interval, interval + 5)));
    this.tree.setStale(stale);

    const title = `${TITLE[m.state]}${f ? ' (filtered)' : ''}`;
    if (this.view.title !== title) this.view.title = title;
    this.view.description = f ? `filtered: ${f.label}` : undefined;

    const lines: string[] = [];
    if (m.state !== 'stopped' || m.showsFinishedReplay) {
      const when =
        age === undefined
          ? 'waiting for the first window'
          : `last window ${formatDuration(age)} ago (${new Date(this.receivedAt ?? 0).toLocaleTimeString()})`;
      lines.push(`${capitalize(STATE_TEXT[m.state])} · ${when}.`);
    }
    if (stale) lines.push('The figures below are stale.');
    if (m.state === 'degraded')
      lines.push(`From /proc, without preemption data: ${degradedText(m.degradedReason)}.`);
    if (f) lines.push(`Showing only ${f.label} and its descendants ("Hotspot: Clear Filter" shows all).`);
    if (m.state !== 'stopped' && m.last && !f && this.emptyWindows >= EMPTY_WINDOWS)
      lines.push(
        this.settings().scope === 'workspace'
          ? 'No process of this workspace was active lately.'
          : 'No active process lately.',
      );
    const message = lines.join(' ') || undefined;
    if (this.view.message !== message) this.view.message = message;
  }

  dispose(): void {
    clearInterval(this.timer);
  }
}

/** The supervisor's reason, said for a person: a first run is "not installed yet", not an unsafe install. */
export function degradedText(reason: string | undefined): string {
  if (!reason) return 'the eBPF helper cannot run';
  if (/not installed safely \(.*does not exist\)/.test(reason))
    return 'the eBPF helper is not installed yet ("Hotspot: Install Helper")';
  return reason.replace(/\.$/, '');
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
