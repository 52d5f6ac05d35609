// Spawns and supervises the helper for the extension and the CLI (vscode-free).
// Already root → run the helper next to us directly. Otherwise → pkexec, but only of the root-owned install
// (never a file the user can write). Every failure becomes a Failure with what happened and what to do. Over 400
// lines because spawning, the hello handshake, the stall watch and the failure catalogue are one lifecycle.
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { plainText } from '../shared/format';
import {
  type Drops,
  describeAttach,
  type Hello,
  LineSplitter,
  parseLine,
  type Window,
} from '../shared/wire/protocol';
import { HELPER_NODE_FLAGS, launcherPath, PKEXEC, unsafeForRoot } from './rootPath';

export interface Logger {
  info(m: string): void;
  warn(m: string): void;
  error(m: string): void;
  debug(m: string): void;
}

export interface Failure {
  code: string;
  message: string;
  hint: string;
  fatal: boolean;
}

export type SupervisorState = 'stopped' | 'starting' | 'running' | 'restarting' | 'failed';

export interface SupervisorOptions {
  helperArgs: string[];
  devHelperPath: string;
  installDir?: string;
  log: Logger;
  maxRestarts?: number;
  watchdogFactor?: number;
  /** For tests: pretend not to be root (forces the pkexec path). */
  forcePkexec?: boolean;
}

/** Failures after which the eBPF helper cannot run here, so consumers fall back to the /proc collector. */
export const DEGRADABLE: ReadonlySet<string> = new Set([
  'NOT_INSTALLED',
  'PKEXEC_CANCELLED',
  'PKEXEC_UNAVAILABLE',
  'NO_BTF',
  'NO_LIBBPF',
  'NOT_PRIVILEGED',
  'VERIFIER',
  'ATTACH',
]);

/** Arguments passed through pkexec must look like what we generate ourselves: flags and small tokens. */
function checkArgs(args: string[]): void {
  for (const a of args)
    if (!/^(--[a-z-]+|[0-9]{1,7}|[a-z_,]{1,64})$/.test(a))
      throw new Error(`refusing helper argument ${JSON.stringify(a)}`);
}

/**
 * The helper's own last error line from its stderr tail, for the crash message: a line it logged itself
 * ("hotspot-helper: …") or the error line of an uncaught exception ("TypeError: …"). Other lines (libbpf chatter,
 * pkexec, Node's version footer, stack frames) would name the wrong culprit, so they are never quoted.
 */
export function lastWords(stderrTail: readonly string[]): string | undefined {
  for (let i = stderrTail.length - 1; i >= 0; i--) {
    const line = stderrTail[i].trim();
    const own = /^hotspot-helper: (.+)$/.exec(line);
    if (own) return plainText(own[1]).slice(0, 300);
    if (/^[A-Z]\w*Error(?: \[\w+\])?: ./.test(line)) return plainText(line).slice(0, 300);
  }
  return undefined;
}

/** After stdin EOF and SIGTERM, how long a helper gets before SIGKILL. */
const STOP_GRACE_MS = 2000;
/** How long an exit may take at most before the helper is abandoned (stop() resolves within this). */
const ABANDON_MS = 5000;

/** Sends a signal; EPERM (a root child of pkexec) is expected and left to the abandonment timer. */
function signal(child: ChildProcess, sig: NodeJS.Signals): void {
  try {
    child.kill(sig);
  } catch {
    /* the abandonment timer decides */
  }
}

const fail = (code: string, message: string, hint: string, fatal: boolean): Failure => ({
  code,
  message,
  hint,
  fatal,
});

export class HelperSupervisor extends EventEmitter {
  private child?: ChildProcess;
  private _state: SupervisorState = 'stopped';
  private restarts = 0;
  private restartTimer?: NodeJS.Timeout;
  private watchdog?: NodeJS.Timeout;
  private healthyTimer?: NodeJS.Timeout;
  private stderrTail: string[] = [];
  private helperError?: Failure;
  private protocolErrors = 0;
  private intervalMs = 5000;
  private exitWaiters: (() => void)[] = [];
  /** The helper's own pid from its hello (under pkexec the process we spawned may not be the helper itself). */
  private helperPid?: number;
  private abandonTimer?: NodeJS.Timeout;
  /** Lines read from the helper so far: the watchdog checks that none arrived while it was waiting to run. */
  private linesSeen = 0;

  constructor(private readonly opts: SupervisorOptions) {
    super();
    const i = opts.helperArgs.indexOf('--interval-ms');
    if (i >= 0) this.intervalMs = Number(opts.helperArgs[i + 1]) || 5000;
  }

  get state(): SupervisorState {
    return this._state;
  }

  private setState(s: SupervisorState): void {
    if (s === this._state) return;
    this._state = s;
    this.emit('state', s);
  }

  private failure(f: Failure): void {
    const line = `${f.code}: ${f.message} — ${f.hint}`;
    if (f.fatal) this.opts.log.error(line);
    else this.opts.log.warn(line);
    this.emit('failure', f);
  }

  /** The command line to run, or a Failure saying why there is none. */
  private launch(): { cmd: string; args: string[]; elevated: boolean } | Failure {
    checkArgs(this.opts.helperArgs);
    if (process.getuid?.() === 0 && !this.opts.forcePkexec)
      return {
        cmd: process.execPath,
        args: [...HELPER_NODE_FLAGS, this.opts.devHelperPath, ...this.opts.helperArgs],
        elevated: false,
      };
    const launcher = launcherPath(this.opts.installDir);
    const why = unsafeForRoot(launcher);
    if (why)
      return fail(
        'NOT_INSTALLED',
        `The privileged helper is not installed safely (${why}).`,
        "Run 'Hotspot: Install Helper' (it asks for your password once).",
        true,
      );
    return { cmd: PKEXEC, args: [launcher, ...this.opts.helperArgs], elevated: true };
  }

  start(): void {
    if (this.child || this._state === 'starting' || this._state === 'running') return;
    clearTimeout(this.restartTimer); // 'restarting': start now instead of when the backoff ends, not twice
    this.restarts = 0;
    this.protocolErrors = 0;
    this.spawnHelper();
  }

  private spawnHelper(): void {
    this.setState('starting');
    this.helperError = undefined;
    this.helperPid = undefined;
    this.stderrTail = [];
    let l: ReturnType<HelperSupervisor['launch']>;
    try {
      l = this.launch();
    } catch (e) {
      l = fail('BAD_ARGS', (e as Error).message, 'This is a bug in Hotspot; please report it.', true);
    }
    if (!('cmd' in l)) {
      this.failure(l);
      this.setState('failed');
      return;
    }
    this.opts.log.info(`starting helper: ${l.cmd} ${l.args.join(' ')}`);
    const child = spawn(l.cmd, l.args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    let spawnError: NodeJS.ErrnoException | undefined;
    child.on('error', (e: NodeJS.ErrnoException) => {
      spawnError = e;
    });
    const splitter = new LineSplitter(
      (line) => this.onLine(line),
      (e) => this.onProtocolError(e.message),
    );
    child.stdout?.setEncoding('utf8').on('data', (c: string) => splitter.push(c));
    const errSplitter = new LineSplitter(
      (line) => {
        this.opts.log.debug(`helper: ${line}`);
        this.stderrTail.push(line);
        if (this.stderrTail.length > 20) this.stderrTail.shift();
      },
      () => {},
      64 * 1024,
    );
    child.stderr?.setEncoding('utf8').on('data', (c: string) => errSplitter.push(`${c}`));
    child.stdin?.on('error', () => {}); // EPIPE when the helper is gone
    // Until hello, pkexec may be waiting for the user to type a password: allow minutes, not intervals.
    this.armWatchdog(l.elevated ? 5 * 60_000 : Math.max(20_000, this.intervalMs * 4));
    child.on('close', (code, signal) => this.onExit(child, code, signal, spawnError, l.elevated));
  }

  private onLine(line: string): void {
    this.linesSeen++;
    let msg: ReturnType<typeof parseLine>;
    try {
      msg = parseLine(line);
    } catch (e) {
      this.onProtocolError((e as Error).message);
      return;
    }
    switch (msg.type) {
      case 'hello':
        this.helperPid = msg.pid;
        this.opts.log.info(`helper ${msg.version} on ${msg.kernel}: ${describeAttach(msg)}`);
        // First window: BPF load + attach + one interval.
        this.armWatchdog(Math.max(20_000, this.intervalMs * 4));
        this.emit('hello', msg satisfies Hello);
        break;
      case 'window':
        if (this._state !== 'running') {
          this.setState('running');
          clearTimeout(this.healthyTimer);
          this.healthyTimer = setTimeout(() => {
            this.restarts = 0; // a healthy minute forgives earlier crashes
          }, 60_000);
        }
        this.armWatchdog(this.intervalMs * (this.opts.watchdogFactor ?? 3));
        this.emit('window', msg satisfies Window);
        break;
      case 'drops':
        this.emit('drops', msg satisfies Drops);
        break;
      case 'profile':
        this.emit('profile', msg);
        break;
      case 'error':
        if (msg.id !== undefined && !msg.fatal)
          this.emit('requestError', msg); // a refused request: its asker says it
        else if (msg.fatal)
          this.helperError = fail(msg.code, msg.message, msg.hint ?? 'See the Hotspot log.', true);
        else this.failure(fail(msg.code, msg.message, msg.hint ?? 'See the Hotspot log.', false));
        break;
    }
  }

  /** Sends one request line to the helper (src/shared/profile/wire.ts); false when no helper is running. */
  request(line: string): boolean {
    const stdin = this.child?.stdin;
    if (!stdin || stdin.destroyed || this.helperPid === undefined) return false; // after hello: attached
    stdin.write(line);
    return true;
  }

  private onProtocolError(detail: string): void {
    this.protocolErrors++;
    this.opts.log.warn(`ignored a malformed helper line: ${detail}`);
    if (this.protocolErrors === 1 || this.protocolErrors % 100 === 0)
      this.failure(
        fail(
          'PROTOCOL',
          `The helper sent a malformed line (${this.protocolErrors} so far); it was skipped.`,
          'See the Hotspot log.',
          false,
        ),
      );
  }

  private armWatchdog(ms: number): void {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => {
      // Timers run before pending input is read: after this process was busy for a while (symbolizing a profile
      // took seconds on a loaded machine), the helper's lines wait unread. Look again once they are read.
      const seen = this.linesSeen;
      const timer = this.watchdog;
      setImmediate(() => {
        if (this.watchdog !== timer || !this.child) return; // a window re-armed it meanwhile
        if (this.linesSeen !== seen)
          this.armWatchdog(ms); // other lines: alive, keep watching for windows
        else this.watchdogFired(ms);
      });
    }, ms);
  }

  private watchdogFired(ms: number): void {
    if (!this.child) return;
    this.helperError = fail(
      'STALLED',
      `The helper sent nothing for ${Math.round(ms / 1000)} s; Hotspot restarts it.`,
      'See the Hotspot log; this can happen on a heavily loaded machine.',
      false,
    );
    this.kill(this.child);
  }

  /**
   * Asks the helper to exit: stdin EOF (the only request a root helper started by pkexec can receive from us), then
   * SIGTERM, SIGKILL after STOP_GRACE_MS. Signals to a root child fail with EPERM and a stopped (SIGSTOP) helper
   * reads nothing, so if it has not exited after ABANDON_MS it is abandoned: reported with the command that ends
   * it, and the supervisor moves on instead of waiting forever.
   */
  private kill(child: ChildProcess): void {
    child.stdin?.end();
    signal(child, 'SIGTERM');
    setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) signal(child, 'SIGKILL');
    }, STOP_GRACE_MS).unref();
    clearTimeout(this.abandonTimer);
    this.abandonTimer = setTimeout(() => this.abandon(child), ABANDON_MS);
  }

  /** Lets go of a helper that would not exit; the user is told the exact command that ends it. */
  private abandon(child: ChildProcess): void {
    if (this.child !== child) return;
    this.child = undefined;
    clearTimeout(this.watchdog);
    clearTimeout(this.healthyTimer);
    for (const stream of [child.stdin, child.stdout, child.stderr]) stream?.destroy();
    child.unref();
    const pid = this.helperPid ?? child.pid;
    const left = `It is still running as pid ${pid} (it runs as root, so Hotspot cannot end it) and its BPF programs stay attached until it ends.`;
    const hint = `End it with: sudo kill -9 ${pid}`;
    this.opts.log.error(
      `abandoned helper pid ${pid}: it did not exit within ${ABANDON_MS / 1000} s. ${hint}`,
    );
    const waiters = this.exitWaiters.splice(0);
    if (waiters.length) {
      // stop(): resolve now, and say what was left behind.
      this.failure(fail('ABANDONED', `The helper did not stop. ${left}`, hint, false));
      this.setState('stopped');
      for (const w of waiters) w();
      return;
    }
    // The watchdog's kill did not work: report the stall (and the leftover) and carry on as after an exit.
    const stalled = this.helperError ?? fail('STALLED', 'The helper stopped responding.', '', false);
    this.afterFailure({ ...stalled, message: `${stalled.message} ${left}`, hint });
  }

  private onExit(
    child: ChildProcess,
    code: number | null,
    signal: NodeJS.Signals | null,
    spawnError: NodeJS.ErrnoException | undefined,
    elevated: boolean,
  ): void {
    if (this.child !== child) return;
    this.child = undefined;
    clearTimeout(this.watchdog);
    clearTimeout(this.healthyTimer);
    clearTimeout(this.abandonTimer);
    const waiters = this.exitWaiters.splice(0);
    if (waiters.length) {
      for (const w of waiters) w();
      this.setState('stopped');
      return;
    }
    const tail = this.stderrTail.slice(-5).join('\n');
    let f: Failure;
    if (spawnError?.code === 'ENOENT')
      f = fail(
        'PKEXEC_UNAVAILABLE',
        'pkexec is not installed, so Hotspot cannot ask for elevation.',
        'Install it (sudo apt-get install pkexec) or run VS Code as root.',
        true,
      );
    else if (this.helperError) f = this.helperError;
    else if (elevated && (code === 126 || (code === 127 && /not authori[sz]ed/i.test(tail))))
      // 126: the user dismissed the dialog; 127 + "Not authorized": polkit said no (no agent, or not an admin).
      f = fail(
        'PKEXEC_CANCELLED',
        code === 126
          ? 'Authentication was cancelled, so the BPF programs were not loaded.'
          : 'polkit denied running the helper (authentication failed, or no authentication agent is running).',
        "Run 'Hotspot: Start' again and authenticate as an administrator, or run VS Code as root.",
        true,
      );
    else if (elevated && code === 127)
      f = fail(
        'PKEXEC_UNAVAILABLE',
        `pkexec could not reach polkit${tail ? ` (${plainText(tail.split('\n')[0]).slice(0, 200)})` : ''}.`,
        'Start polkitd and the system D-Bus, or run VS Code as root.',
        true,
      );
    else {
      const words = lastWords(this.stderrTail);
      f = fail(
        'CRASHED',
        `The helper exited unexpectedly (${signal ?? `code ${code}`})${words ? `: ${words}` : ''}.`,
        'Hotspot restarts it; see the Hotspot log for details.',
        false,
      );
    }

    this.afterFailure(f);
  }

  /** Restarts with backoff after a retryable failure, else reports it as fatal. */
  private afterFailure(failure: Failure): void {
    let f = failure;
    const retryable = !f.fatal || ['CRASHED', 'STALLED', 'MAP_READ', 'INTERNAL'].includes(f.code);
    const max = this.opts.maxRestarts ?? 5;
    if (retryable && this.restarts < max) {
      f = { ...f, fatal: false };
      this.failure(f);
      const delay = Math.min(30_000, 1000 * 2 ** this.restarts++);
      this.setState('restarting');
      this.restartTimer = setTimeout(() => this.spawnHelper(), delay);
    } else {
      this.failure({ ...f, fatal: true });
      this.setState('failed');
    }
  }

  /** Closes the helper's stdin and signals it; resolves once it has exited (BPF programs detached). */
  stop(): Promise<void> {
    clearTimeout(this.restartTimer);
    clearTimeout(this.watchdog);
    // A kill already under way (the watchdog's) keeps its abandonment timer: stop() resolves by then at the latest.
    const child = this.child;
    if (!child) {
      this.setState('stopped');
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const killing = this.exitWaiters.length > 0;
      this.exitWaiters.push(resolve);
      if (!killing) this.kill(child);
    });
  }
}
