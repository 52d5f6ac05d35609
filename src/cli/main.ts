// `hotspot`: the same diagnoses as the extension, in a terminal. Spawns the helper (directly when root, else the
// root-owned install through pkexec), classifies each window and prints a table or JSON lines.
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import * as path from 'node:path';
import { Classifier, isExcluded, isKernelThread, matchesCgroup } from '../shared/classifier';
import { type Config, ConfigError, DEFAULT_CONFIG, generateConfigYaml, parseConfig } from '../shared/config';
import type { Diagnosis, Report } from '../shared/diagnosis';
import { cause, details } from '../shared/explain';
import { ProcessTreeFilter, parentsFrom } from '../shared/processTree';
import { readPpid } from '../shared/procfs';
import { ProcfsSampler } from '../shared/procfsSampler';
import { encode, type Hello, type Message, parseLine, type Window } from '../shared/protocol';
import { DEGRADABLE, HelperSupervisor, type Logger } from '../shared/supervisor';
import { type CliOptions, parseArgs, USAGE, UsageError } from './args';
import { renderReport } from './render';

declare const HOTSPOT_VERSION: string | undefined;
const version = typeof HOTSPOT_VERSION === 'string' ? HOTSPOT_VERSION : '0.1.0';

function loadConfig(o: CliOptions): Config {
  if (!o.configPath) return DEFAULT_CONFIG;
  let text: string;
  try {
    text = readFileSync(o.configPath, 'utf8');
  } catch (e) {
    throw new UsageError(`--config: cannot read ${o.configPath}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  return parseConfig(text, o.configPath);
}

/** Applies the view filters *after* classification, as the reference does (history is kept for everyone). */
function visible(report: Report, o: CliOptions, cfg: Config, hello: Hello): Diagnosis[] {
  const exclude = [...cfg.exclude, ...o.exclude, String(hello.pid)];
  const tree = o.pids.length
    ? new ProcessTreeFilter(new Set(o.pids), parentsFrom(report.diagnoses, readPpid))
    : undefined;
  return report.diagnoses.filter(
    (d) =>
      !(o.hideKernel && isKernelThread(d.tgid, d.comm)) &&
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
function attachText(h: Hello): string {
  return `switch ${h.attach.switch} · tasks ${h.attach.tasks} · exit ${h.attach.exit}`;
}

/** Drives classification + output from a stream of messages, live or replayed. */
class Session {
  private hello?: Hello;
  private classifier?: Classifier;
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
      this.classifier = new Classifier(this.cfg, msg);
      if (!this.o.json)
        process.stderr.write(
          `hotspot: kernel ${msg.kernel}, ${attachText(msg)}, window ${msg.intervalMs} ms\n`,
        );
    } else if (msg.type === 'window' && this.classifier && this.hello)
      this.onWindow(msg, this.hello, this.classifier);
    else if (msg.type === 'drops')
      process.stderr.write(`hotspot: map full, updates dropped: ${JSON.stringify(msg.maps)}\n`);
    else if (msg.type === 'error')
      process.stderr.write(`hotspot: ${msg.message}${msg.hint ? `\n  ${msg.hint}` : ''}\n`);
  }

  private onWindow(w: Window, hello: Hello, classifier: Classifier): void {
    const report = classifier.classify(w);
    const shown = visible(report, this.o, this.cfg, hello);
    if (this.o.json) process.stdout.write(`${jsonLine(report, shown, hello)}\n`);
    else {
      const tty = process.stdout.isTTY === true;
      const text = renderReport(report, shown, {
        colour: tty,
        topK: this.o.topK,
        attach: attachText(hello),
      });
      process.stdout.write(tty ? `\x1b[H\x1b[2J${text}\n` : `${text}\n\n`);
    }
    if (this.o.windows !== undefined && ++this.windows >= this.o.windows) this.done();
  }
}

function replay(o: CliOptions, session: Session): void {
  const lines = readFileSync(o.replay!, 'utf8').split('\n');
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
    warn: (m) => process.stderr.write(`hotspot: ${m}\n`),
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
    process.stderr.write(`hotspot: ${f.message}\n  ${f.hint}\n`);
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
    if ((s === 'failed' && !degraded) || s === 'stopped') process.exit(process.exitCode ?? 0);
  });
  onStop(async () => {
    clearInterval(degraded);
    await sup.stop();
  });
  sup.start();
}

export function main(argv: string[]): void {
  let o: CliOptions;
  let cfg: Config;
  try {
    o = parseArgs(argv);
    if (o.help) return void process.stdout.write(`${USAGE}\n`);
    if (o.version) return void process.stdout.write(`hotspot ${version}\n`);
    if (o.generateConfig) return void process.stdout.write(generateConfigYaml());
    cfg = loadConfig(o);
  } catch (e) {
    if (e instanceof UsageError || e instanceof ConfigError) {
      process.stderr.write(`hotspot: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const recorder = o.record ? createWriteStream(o.record) : undefined;
  let stop: () => Promise<void> = async () => {};
  const finish = () => {
    void stop().then(
      () => recorder?.end(() => process.exit(process.exitCode ?? 0)) ?? process.exit(process.exitCode ?? 0),
    );
  };
  const session = new Session(o, cfg, recorder, finish);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, finish);
  if (o.replay) {
    try {
      replay(o, session);
    } catch (e) {
      process.stderr.write(`hotspot: ${(e as Error).message}\n`);
      process.exit(2);
    }
    recorder?.end();
    return;
  }
  live(o, session, (s) => {
    stop = s;
  });
}

if (require.main === module) main(process.argv.slice(2));
