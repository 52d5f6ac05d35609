// The extension's session: a source of protocol messages (the elevated helper, the degraded /proc sampler, or a
// recorded session), the classifier, and the scoping that decides what the views show. vscode is used only for
// events; the views subscribe to onDidUpdate.
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ProcfsSampler } from '../host/procfsSampler';
import { openRecordingFd, readRecording } from '../host/sessionFile';
import {
  DEGRADABLE,
  type Failure,
  HelperSupervisor,
  type Logger,
  type SupervisorOptions,
} from '../host/supervisor';
import type { Config } from '../shared/diagnosis/config';
import type { Diagnosis, Report } from '../shared/diagnosis/model';
import { DiagnosisPipeline } from '../shared/diagnosis/pipeline';
import { Timeline } from '../shared/presentation/timeline';
import { isExcluded, isKernelThread, matchesCgroup } from '../shared/presentation/viewFilters';
import { encode, type Hello, type Message, parseLine } from '../shared/wire/protocol';
import { type ProcessFilter, treePredicate, type WorkspaceScope } from './scope';
import type { Settings } from './settings';

export type MonitorState = 'stopped' | 'starting' | 'running' | 'restarting' | 'degraded' | 'replaying';

export interface Update {
  report: Report;
  /** Diagnoses in view: scoped, filtered, most severe first. */
  shown: Diagnosis[];
  hello: Hello;
  /** A new window (false when the last one is re-published after a filter or settings change). */
  fresh: boolean;
  /** Every process past the base filters (own pid, kernel threads, cgroup, exclude), before scope and filter:
   *  where a machine-wide OOM risk is found even while the view is narrowed. */
  context: Diagnosis[];
  /** In scope, before the filter: what happened (the timeline, the dashboard's history) is recorded from these,
   *  so filtering changes what is shown, never what is on record. */
  scoped: Diagnosis[];
  /** VS Code's own processes (language servers, the extension host's children): marked, never alerted on. */
  editor: ReadonlySet<number>;
}

export class Monitor implements vscode.Disposable {
  private readonly updateEmitter = new vscode.EventEmitter<Update>();
  private readonly stateEmitter = new vscode.EventEmitter<MonitorState>();
  private readonly failureEmitter = new vscode.EventEmitter<Failure>();
  readonly onDidUpdate = this.updateEmitter.event;
  readonly onDidChangeState = this.stateEmitter.event;
  readonly onDidFail = this.failureEmitter.event;

  private _state: MonitorState = 'stopped';
  private disposed = false;
  /** Bumped by every stop(), so a restart scheduled before a Stop does not undo it. */
  private generation = 0;
  /** The data on screen comes from a recorded session (its pids are not this machine's). */
  private fromReplay = false;
  private readonly recordingEmitter = new vscode.EventEmitter<boolean>();
  readonly onDidChangeRecording = this.recordingEmitter.event;
  private supervisor?: HelperSupervisor;
  private timer?: NodeJS.Timeout;
  /** Classifies, holds labels for two windows (calm views) and orders; one per session. */
  private pipeline?: DiagnosisPipeline;
  private recorder?: WriteStream;
  private _filter?: ProcessFilter;
  hello?: Hello;
  last?: Update;
  drops: Record<string, number> = {};
  /** When each process entered and left each diagnosis, this session. */
  readonly timeline = new Timeline();
  /** Why the session is degraded, for the view's message. */
  degradedReason?: string;
  /** The pids the last window saw (a row carried over a window for a process not in it may have exited). */
  private present = new Set<number>();

  constructor(
    private readonly extensionPath: string,
    private readonly log: vscode.LogOutputChannel,
    private readonly scope: WorkspaceScope,
    private settings: Settings,
    private config: Config,
    /** Tests only: e.g. force the pkexec path against an empty install dir. */
    private readonly supervisorOverrides: Pick<SupervisorOptions, 'forcePkexec' | 'installDir'> = {},
  ) {}

  get state(): MonitorState {
    return this._state;
  }
  get filter(): ProcessFilter | undefined {
    return this._filter;
  }
  get recording(): boolean {
    return this.recorder !== undefined;
  }
  /** A replay ran to its end and its last window is still on screen. */
  get showsFinishedReplay(): boolean {
    return this._state === 'stopped' && this.fromReplay && this.last !== undefined;
  }
  /** The running helper's supervisor (profile requests go through it); undefined in degraded mode or stopped. */
  get helper(): HelperSupervisor | undefined {
    return this.helperPid === undefined ? undefined : this.supervisor;
  }
  get helperPid(): number | undefined {
    return this.hello && !this.hello.capabilities.includes('degraded') ? this.hello.pid : undefined;
  }

  private setState(s: MonitorState): void {
    if (s === this._state) return;
    this._state = s;
    if (this.disposed) return; // stopping after deactivation: the log and listeners are gone
    this.log.info(`state: ${s}`);
    this.stateEmitter.fire(s);
  }

  setSettings(s: Settings): void {
    const restart = s.intervalMs !== this.settings.intervalMs && (this.supervisor || this.timer);
    this.settings = s;
    if (restart && this._state !== 'replaying') {
      this.log.info(`interval changed to ${s.intervalMs} ms: restarting the collector`);
      const stopped = this.stop();
      const gen = this.generation;
      void stopped.then(() => {
        if (gen === this.generation && !this.disposed) this.start(); // unless Stop or shutdown came meanwhile
      });
    } else this.refresh();
  }

  /** The thresholds in force (the status bar's OOM urgency reads the horizon). */
  get thresholds(): Config {
    return this.config;
  }

  setConfig(c: Config): void {
    this.config = c;
    this.pipeline?.setConfig(c);
  }

  setFilter(f: ProcessFilter | undefined): void {
    this._filter = f;
    this.refresh();
  }

  /** Starts the eBPF helper (elevated when needed); falls back to /proc when it cannot run. */
  start(): void {
    if (this._state !== 'stopped' || this.disposed) return;
    this.clearSession();
    this.setState('starting');
    const sup = new HelperSupervisor({
      helperArgs: ['--interval-ms', String(this.settings.intervalMs)],
      devHelperPath: path.join(this.extensionPath, 'dist', 'helper.js'),
      log: this.logger(),
      ...this.supervisorOverrides,
    });
    this.supervisor = sup;
    sup.on('hello', (m: Message) => this.onMessage(m));
    sup.on('window', (m: Message) => this.onMessage(m));
    sup.on('drops', (m: Message) => this.onMessage(m));
    sup.on('state', (s: string) => {
      if (this.supervisor !== sup) return;
      // The supervisor passes through 'starting' again when it respawns the helper: for the views that is still
      // a restart (old figures on screen, now stale), not a new session.
      if (s === 'starting' && (this._state === 'restarting' || this._state === 'running'))
        this.setState('restarting');
      else if (s === 'running' || s === 'restarting' || s === 'starting') this.setState(s);
    });
    sup.on('failure', (f: Failure) => {
      if (this.supervisor !== sup) return;
      this.failureEmitter.fire(f);
      if (f.fatal) {
        this.supervisor = undefined;
        if (DEGRADABLE.has(f.code)) this.startDegraded(f.message);
        else this.setState('stopped');
      }
    });
    sup.start();
  }

  /** The unprivileged fallback: CPU, faults and RSS from /proc, no preemption data. */
  startDegraded(reason: string): void {
    this.degradedReason = reason;
    const sampler = new ProcfsSampler();
    this.onMessage(sampler.hello(this.settings.intervalMs));
    this.setState('degraded');
    this.timer = setInterval(() => this.onMessage(sampler.sample()), this.settings.intervalMs);
  }

  /** Plays a recorded session (JSONL of protocol messages), one window per `paceMs`. */
  async replay(file: string, paceMs = 500): Promise<void> {
    if (this._state !== 'stopped') throw new Error('Stop Hotspot before replaying a session.');
    const messages: Message[] = [];
    (await readRecording(file)).split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        messages.push(parseLine(line));
      } catch (e) {
        throw new Error(`${file}:${i + 1}: ${(e as Error).message}`);
      }
    });
    if (messages[0]?.type !== 'hello') throw new Error(`${file}: does not start with a hello line`);
    this.clearSession();
    this.fromReplay = true;
    this.setState('replaying');
    let i = 0;
    const step = () => {
      // Everything up to and including the next window.
      while (i < messages.length) {
        const m = messages[i++];
        this.onMessage(m);
        if (m.type === 'window') break;
      }
      if (i >= messages.length) {
        clearInterval(this.timer);
        this.timer = undefined;
        this.log.info(`replay of ${file} finished`);
        this.setState('stopped');
      }
    };
    step();
    if (i < messages.length) this.timer = setInterval(step, paceMs); // not already done (a one-window file)
  }

  /** Stops whatever runs (helper, /proc sampler or replay) and forgets its data. */
  async stop(): Promise<void> {
    this.generation++;
    clearInterval(this.timer);
    this.timer = undefined;
    const sup = this.supervisor;
    this.supervisor = undefined;
    this.stopRecording();
    this.clearSession();
    await sup?.stop();
    this.degradedReason = undefined;
    this.setState('stopped');
  }

  private clearSession(): void {
    this.last = undefined;
    this.hello = undefined;
    this.pipeline = undefined;
    this.fromReplay = false;
    this.drops = {};
    this.timeline.clear();
  }

  /** Records the live session's protocol stream; false when there is no live session to record. */
  startRecording(file: string): boolean {
    if (!this.hello || this._state === 'stopped' || this._state === 'replaying') return false;
    this.stopRecording();
    // The save dialog asked before replacing a file; a symlink is still never followed.
    const rec = createWriteStream('', { fd: openRecordingFd(file, true) });
    this.recorder = rec;
    rec.on('error', (e) => {
      this.log.error(`recording to ${file} failed: ${e.message}`);
      if (this.recorder === rec) {
        this.recorder = undefined;
        this.recordingEmitter.fire(false);
      }
    });
    rec.write(encode(this.hello));
    this.log.info(`recording the session to ${file}`);
    this.recordingEmitter.fire(true);
    return true;
  }

  stopRecording(): void {
    if (!this.recorder) return;
    this.recorder.end();
    this.recorder = undefined;
    this.recordingEmitter.fire(false);
  }

  private onMessage(m: Message): void {
    this.recorder?.write(encode(m));
    switch (m.type) {
      case 'hello':
        this.hello = m;
        // The hello carries the host facts it needs; a restarted helper keeps the labels held.
        if (this.pipeline) this.pipeline.restart(m);
        else this.pipeline = new DiagnosisPipeline(this.config, m);
        break;
      case 'window': {
        if (!this.pipeline || !this.hello) return;
        if (this._state === 'starting' || this._state === 'restarting') this.setState('running');
        const report = this.pipeline.push(m);
        const raw = this.pipeline.lastClassified!;
        this.present = new Set(raw.diagnoses.map((d) => d.tgid));
        this.publish(report, this.hello, true);
        this.record(raw, this.last);
        this.drops = {}; // a drops line follows the window it belongs to: shown with the next one, then cleared
        break;
      }
      case 'drops':
        this.drops = m.maps;
        this.log.warn(`BPF maps full, updates dropped this window: ${JSON.stringify(m.maps)}`);
        break;
      case 'error':
        this.log.warn(`helper: ${m.code}: ${m.message}`);
        break;
    }
  }

  /** Re-applies scope and filter to the last report (after a settings or filter change). */
  refresh(): void {
    if (this.last && (this._state !== 'stopped' || this.showsFinishedReplay))
      this.publish(this.last.report, this.last.hello, false);
  }

  /** Adds the window to the timeline: the shown processes' diagnoses, and any OOM risk on the machine. */
  private record(raw: Report, u: Update | undefined): void {
    if (!u) return;
    const alerting = u.scoped.filter((d) => d.label !== 'OK');
    for (const d of u.context) if (d.label === 'OOM risk' && !alerting.includes(d)) alerting.push(d);
    const present = new Set(raw.diagnoses.map((d) => d.tgid));
    // A replay's pids are another machine's: whatever vanished from it counts as exited.
    this.timeline.add(
      u.report.ts,
      alerting,
      present,
      (pid) => !this.fromReplay && existsSync(`/proc/${pid}`),
    );
  }

  private publish(report: Report, hello: Hello, fresh: boolean): void {
    const s = this.settings;
    const exclude = [...this.config.exclude, String(hello.pid)];
    // A row carried over from the last window for a process that has since exited says nothing true any more
    // ("~9 min to OOM" for a leak that is gone): it goes, and the timeline says it exited.
    const exited = (d: Diagnosis) =>
      !this.fromReplay && !this.present.has(d.tgid) && !existsSync(`/proc/${d.tgid}`);
    const context = report.diagnoses.filter(
      (d) =>
        d.tgid !== process.pid && // our own extension host
        !(s.hideKernelThreads && isKernelThread(d)) &&
        (!s.cgroupFilter || matchesCgroup(d.cgroup, s.cgroupFilter)) &&
        !isExcluded(d, exclude) &&
        !exited(d),
    );
    const isEditor = this.fromReplay ? () => false : this.scope.editorPredicate(report.diagnoses);
    const editor = new Set(context.filter(isEditor).map((d) => d.tgid));
    let scoped = context;
    if (s.scope === 'workspace' && !this.fromReplay) {
      const inScope = this.scope.predicate(report.diagnoses);
      // VS Code's own helpers often run in the workspace folder (language servers): not the user's processes.
      scoped = scoped.filter((d) => inScope(d) && !editor.has(d.tgid));
    }
    const shown = this._filter ? context.filter(treePredicate(this._filter, report.diagnoses)) : scoped;
    this.last = { report, shown, hello, fresh, context, scoped, editor };
    this.updateEmitter.fire(this.last);
  }

  private logger(): Logger {
    return {
      info: (m) => this.log.info(m),
      warn: (m) => this.log.warn(m),
      error: (m) => this.log.error(m),
      debug: (m) => this.log.debug(m),
    };
  }

  dispose(): void {
    this.disposed = true;
    void this.stop();
    this.updateEmitter.dispose();
    this.stateEmitter.dispose();
    this.failureEmitter.dispose();
    this.recordingEmitter.dispose();
  }
}
