// `hotspot`: the same diagnoses as the extension, in a terminal. Spawns the helper (directly when root, else the
// root-owned install through pkexec), classifies each window and prints a table or JSON lines.
import { createWriteStream, type WriteStream } from 'node:fs';
import * as path from 'node:path';
import { loadConfigFile } from '../host/configFile';
import { InstallError, installHelper } from '../host/install';
import { readPpid } from '../host/procfs';
import { ProcfsSampler } from '../host/procfsSampler';
import { openRecordingFd, readRecordingSync } from '../host/sessionFile';
import { DEGRADABLE, HelperSupervisor, type Logger } from '../host/supervisor';
import { serveMain } from '../serve/main';
import { type Config, ConfigError, DEFAULT_CONFIG, generateConfigYaml } from '../shared/diagnosis/config';
import type { Diagnosis, Report } from '../shared/diagnosis/model';
import { DiagnosisPipeline } from '../shared/diagnosis/pipeline';
import { plainText } from '../shared/format';
import { cause, details } from '../shared/presentation/explain';
import { ProcessTreeFilter, parentsFrom } from '../shared/presentation/processTree';
import { isExcluded, isKernelThread, matchesCgroup } from '../shared/presentation/viewFilters';
import {
  describeAttach,
  encode,
  type Hello,
  type Message,
  parseLine,
  type Window,
} from '../shared/wire/protocol';
import { type CliOptions, parseArgs, USAGE, UsageError } from './args';
import { renderReport } from './render';

declare const HOTSPOT_VERSION: string | undefined;
const version = typeof HOTSPOT_VERSION === 'string' ? HOTSPOT_VERSION : 'dev';

/** The --config file (regular, ≤ 1 MiB, read asynchronously), or the defaults. Throws ConfigError. */
async function loadConfig(o: CliOptions): Promise<Config> {
  return o.configPath ? loadConfigFile(o.configPath) : DEFAULT_CONFIG;
}

/**
 * One message on stderr. Its text may come from a replay file or the helper, so it is made plain (no control or
 * bidi characters) before it reaches the terminal.
 */
function say(message: string, hint?: string): void {
  process.stderr.write(`hotspot: ${plainText(message)}${hint ? `\n  ${plainText(hint)}` : ''}\n`);
}

/**
 * The --record file: always a new file, private to the user (0600), never reached through a symlink. The CLI often
 * runs as root, so following a link planted in a shared directory, or truncating what is there, would let anyone
 * who can write that directory overwrite a file of root's.
 */
function openRecording(file: string): WriteStream {
  try {
    return createWriteStream('', { fd: openRecordingFd(file, false) });
  } catch (e) {
    throw new UsageError(`--record: ${(e as Error).message}`);
  }
}

/** Applies the view filters *after* classification, as the reference does (history is kept for everyone). */
function visible(report: Report, o: CliOptions, cfg: Config, hello: Hello): Diagnosis[] {
  const exclude = [...cfg.exclude, ...o.exclude, String(hello.pid)];
  const tree = o.pids.length
    ? new ProcessTreeFilter(new Set(o.pids), parentsFrom(report.diagnoses, readPpid))
    : undefined;
  return report.diagnoses.filter(
    (d) =>
      !(o.hideKernel && isKernelThread(d)) &&
      (!o.cgroupFilter || matchesCgroup(d.cgroup, o.cgroupFilter)) &&
      !isExcluded(d, exclude) &&
      (!tree || tree.includes(d.tgid)),
  );
}

function jsonLine(report: Report, diagnoses: Diagnosis[], hello: Hello): string {
  return JSON.stringify({
    seq: report.seq,
    ts: report.ts,
    durationNs: report.durationNs,
    attach: hello.attach,
    profile: report.profile,
    machineBusyPercent: report.machineBusyPercent,
    perCoreSaturation: report.perCoreSaturation,
    self: report.self,
    processes: diagnoses.map((d) => ({ ...d, cause: cause(d), details: details(d) })),
  });
}

/** "switch tp_btf · tasks iter · exit tp_btf": how the helper reads the kernel this session. */
/**
 * Exits once everything written to stdout has left the process: stdout into a pipe is asynchronous, and
 * process.exit() right after a large window would cut the JSON line (a reader saw 428 KiB of a 3 MiB window).
 */
function exitAfterOutput(code: number): void {
  process.stdout.write('', () => process.exit(code));
}

/** Drives classification + output from a stream of messages, live or replayed. */
class Session {
  private hello?: Hello;
  /** The same classify → hold → order path as the extension's views. */
  private pipeline?: DiagnosisPipeline;
  private windows = 0;
  constructor(
    private readonly o: CliOptions,
    private readonly cfg: Config,
    private readonly recorder: WriteStream | undefined,
    private readonly done: () => void,
  ) {}

  onMessage(msg: Message): void {
    this.recorder?.write(encode(msg));
    if (msg.type === 'hello') {
      this.hello = msg;
      if (this.pipeline) this.pipeline.restart(msg);
      else this.pipeline = new DiagnosisPipeline(this.cfg, msg);
      if (!this.o.json) say(`kernel ${msg.kernel}, ${describeAttach(msg)}, window ${msg.intervalMs} ms`);
    } else if (msg.type === 'window' && this.pipeline && this.hello)
      this.onWindow(msg, this.hello, this.pipeline);
    else if (msg.type === 'drops') say(`map full, updates dropped: ${JSON.stringify(msg.maps)}`);
    else if (msg.type === 'error') say(msg.message, msg.hint);
  }

  private onWindow(w: Window, hello: Hello, pipeline: DiagnosisPipeline): void {
    const report = pipeline.push(w);
    const shown = visible(report, this.o, this.cfg, hello);
    if (this.o.json) process.stdout.write(`${jsonLine(report, shown, hello)}\n`);
    else {
      const tty = process.stdout.isTTY === true;
      const text = renderReport(report, shown, {
        colour: tty,
        topK: this.o.topK,
        attach: describeAttach(hello),
      });
      process.stdout.write(tty ? `\x1b[H\x1b[2J${text}\n` : `${text}\n\n`);
    }
    if (this.o.windows !== undefined && ++this.windows >= this.o.windows) this.done();
  }
}

function replay(o: CliOptions, session: Session): void {
  let text: string;
  try {
    text = readRecordingSync(o.replay!);
  } catch (e) {
    throw new UsageError(`--replay: ${(e as Error).message}`);
  }
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      session.onMessage(parseLine(line));
    } catch (e) {
      throw new UsageError(`--replay: ${o.replay}:${i + 1}: ${(e as Error).message}`);
    }
  });
}

function live(o: CliOptions, session: Session, onStop: (stop: () => Promise<void>) => void): void {
  const log: Logger = {
    info: () => {},
    debug: () => {},
    warn: (m) => say(m),
    error: () => {}, // fatal failures reach the 'failure' handler below, which prints them once
  };
  const sup = new HelperSupervisor({
    helperArgs: ['--interval-ms', String(o.intervalMs)],
    devHelperPath: path.join(__dirname, 'helper.js'),
    log,
  });
  sup.on('hello', (m) => session.onMessage(m));
  sup.on('window', (m) => session.onMessage(m));
  sup.on('drops', (m) => session.onMessage(m));
  let degraded: NodeJS.Timeout | undefined;
  sup.on('failure', (f) => {
    say(f.message, f.hint);
    if (f.fatal && DEGRADABLE.has(f.code)) {
      // Still useful without eBPF: CPU, faults and RSS from /proc (no preemption data).
      process.stderr.write(
        'hotspot: continuing in degraded mode from /proc (no preemption pairs: no Noisy neighbor, Starved without its cause)\n',
      );
      const sampler = new ProcfsSampler();
      session.onMessage(sampler.hello(o.intervalMs));
      degraded = setInterval(() => session.onMessage(sampler.sample()), o.intervalMs);
    } else if (f.fatal) process.exitCode = 1;
  });
  sup.on('state', (s) => {
    if ((s === 'failed' && !degraded) || s === 'stopped') exitAfterOutput(Number(process.exitCode ?? 0));
  });
  onStop(async () => {
    clearInterval(degraded);
    await sup.stop();
  });
  sup.start();
}

/**
 * `sudo node <extension>/dist/cli.js install-helper`: the same install as the extension's Install Helper (every file
 * checked against the packaging manifest), from a terminal — for machines without a polkit agent.
 */
async function installFromTerminal(o: CliOptions): Promise<void> {
  const log: Logger = {
    info: (m) => say(m),
    warn: (m) => say(m),
    error: (m) => say(m),
    debug: () => {},
  };
  try {
    const r = await installHelper({
      extensionPath: path.resolve(__dirname, '..'),
      installDir: o.installDir,
      policyDir: o.policyDir,
      log,
    });
    process.stdout.write(
      `hotspot: helper installed in ${r.installDir} (launcher ${r.launcher}, policy ${r.policyFile});\n` +
        `  ${r.verifiedFiles} files verified against the packaging manifest, sha256 ${r.manifestSha256}\n`,
    );
  } catch (e) {
    say((e as Error).message, e instanceof InstallError ? e.hint : undefined);
    process.exitCode = 1;
  }
}

export async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'serve') return serveMain(argv.slice(1), version, path.join(__dirname, 'helper.js'));
  if (argv[0] === 'profile') {
    const code = await (await import('./profile')).runProfile(argv.slice(1));
    return exitAfterOutput(code);
  }
  let o: CliOptions;
  let cfg: Config;
  try {
    o = parseArgs(argv);
    if (o.help) return void process.stdout.write(`${USAGE}\n`);
    if (o.version) return void process.stdout.write(`hotspot ${version}\n`);
    if (o.generateConfig) return void process.stdout.write(generateConfigYaml());
    if (o.command === 'install-helper') return await installFromTerminal(o);
    cfg = await loadConfig(o);
  } catch (e) {
    if (e instanceof UsageError || e instanceof ConfigError) {
      say(e.message);
      process.exit(2);
    }
    throw e;
  }
  let recorder: WriteStream | undefined;
  try {
    recorder = o.record ? openRecording(o.record) : undefined;
  } catch (e) {
    say((e as Error).message);
    process.exit(2);
  }
  let stop: () => Promise<void> = async () => {};
  const finish = () => {
    void stop().then(
      () =>
        recorder?.end(() => exitAfterOutput(Number(process.exitCode ?? 0))) ??
        exitAfterOutput(Number(process.exitCode ?? 0)),
    );
  };
  // The reader went away (`hotspot --json | head`): stop the helper and leave quietly, as other filters do.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
    finish();
  });
  const session = new Session(o, cfg, recorder, finish);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, finish);
  if (o.replay) {
    try {
      replay(o, session);
    } catch (e) {
      say((e as Error).message);
      process.exit(2);
    }
    recorder?.end();
    return;
  }
  live(o, session, (s) => {
    stop = s;
  });
}

if (require.main === module) void main(process.argv.slice(2));
