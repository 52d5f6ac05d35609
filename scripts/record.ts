// Recorder: runs a reference workload under the real helper and saves the raw protocol stream as a JSONL
// fixture (hello + windows) for the classifier's unit tests, with a sidecar saying what each role should be.
//
//   sudo npm run record -- <cpu|contention|thrash|leak|sawtooth|readleak> [--windows 10] [--interval-ms 1000]
//                            [--out test/fixtures]
//
// Windows are trimmed to the workload's processes plus the busiest few others, so fixtures stay small but
// still contain real neighbours.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { LineSplitter, type Message, parseLine } from '../src/shared/wire/protocol';
import { startWorkload, type WorkloadName } from '../test/workloads';

/**
 * What each workload's roles must be diagnosed as: `roles` under the reference rules (`profile: reference`, with
 * the config the 2-core test machine needs), `defaultRoles` under the default rules with their defaults. One
 * recording serves both profiles; workloads only the default rules were built for have no reference roles.
 */
export const EXPECTATIONS: Record<
  string,
  {
    roles: Record<string, string>;
    config: object;
    defaultRoles: Record<string, string>;
    /** Roles whose expected labels hold only if the machine let them run: a recording where /proc says they
     * waited for a CPU more than QUIET_WAIT_PERCENT of their runnable time is refused (record again). */
    quiet?: string[];
  }
> = {
  cpu: {
    roles: { cpu: 'CPU-bound' },
    config: { profile: 'reference' },
    defaultRoles: { cpu: 'CPU-bound' },
    quiet: ['cpu'],
  },
  contention: {
    // EEVDF preempts a nice-19 loop only ~4 times a second (the reference counted every switch, voluntary or
    // not), so 1 s windows need per-window counts of 1; and the aggressor, itself preempted a few times a
    // window, must not be taken for merely CPU-bound.
    roles: { victim: 'Starved', aggressor: 'Noisy neighbor' },
    config: {
      profile: 'reference',
      cpu_bound: { max_preempted: 1 },
      starved: { min_preempted: 1, max_cpu_percent: 10 },
      noisy_neighbor: { min_preempts_others: 1, min_cpu_percent: 30 },
    },
    defaultRoles: { victim: 'Starved', aggressor: 'Noisy neighbor' },
    quiet: ['aggressor'],
  },
  // A fault storm of fresh zero pages: "Mem-thrashing" to the reference; minor faults cost no I/O.
  thrash: {
    roles: { thrash: 'Mem-thrashing' },
    config: { profile: 'reference' },
    defaultRoles: { thrash: 'OK' },
    quiet: ['thrash'],
  },
  leak: {
    roles: { leak: 'OOM risk' },
    config: { profile: 'reference', oom: { rss_mb: 100, rss_ratio: 0.1, faults_per_sec: 200 } },
    defaultRoles: { leak: 'OOM risk' },
  },
  sawtooth: {
    roles: {},
    config: { profile: 'reference' },
    defaultRoles: { sawtooth: 'OK' },
    quiet: ['sawtooth'],
  },
  readleak: { roles: {}, config: { profile: 'reference' }, defaultRoles: { readleak: 'OOM risk' } },
};

const KEEP_OTHERS = 5;
const QUIET_WAIT_PERCENT = 20;

/** On-CPU and run-queue ns of every thread of a process, from /proc (0, 0 once it is gone). */
function schedstat(pid: number): [number, number] {
  let run = 0;
  let wait = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const [r, w] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
      run += r;
      wait += w;
    }
  } catch {}
  return [run, wait];
}
const root = path.resolve(__dirname, '..');

/** Pairs kept per window: the heaviest ones that involve a workload process. */
const KEEP_PAIRS = 60;

/**
 * Keeps the workload's processes, the busiest few others, and the processes in the heaviest pairs that involve
 * the workload (so whom it waited behind keeps its name and CPU time, which the default rules weigh).
 */
function trim(msg: Message, keep: Set<number>): Message {
  if (msg.type !== 'window') return msg;
  const pairs = msg.pairs
    .filter((p) => keep.has(p.victim) || keep.has(p.aggressor))
    .sort((a, b) => b.count - a.count)
    .slice(0, KEEP_PAIRS);
  const wanted = new Set(keep);
  for (const p of pairs) wanted.add(p.victim).add(p.aggressor);
  const others = msg.procs
    .filter((p) => !wanted.has(p.tgid))
    .sort((a, b) => b.cpuNs - a.cpuNs)
    .slice(0, KEEP_OTHERS);
  const procs = [...msg.procs.filter((p) => wanted.has(p.tgid)), ...others];
  // Only the cgroups the kept processes point at, renumbered.
  const used = [...new Set(procs.map((p) => p.cg))].sort((a, b) => a - b);
  const at = new Map(used.map((cg, i) => [cg, i]));
  return {
    ...msg,
    procs: procs.map((p) => ({ ...p, cg: at.get(p.cg) ?? 0 })),
    cgroups: used.map((cg) => msg.cgroups[cg]),
    pairs,
  };
}

async function record(
  name: WorkloadName,
  windows: number,
  intervalMs: number,
  outDir: string,
): Promise<string> {
  const expect = EXPECTATIONS[name];
  if (!expect) throw new Error(`no expectations for workload "${name}"`);
  const workload = startWorkload(name);
  const keep = new Set(Object.values(workload.pids));
  const quiet = (expect.quiet ?? []).map((role) => ({
    role,
    pid: workload.pids[role],
    at: schedstat(workload.pids[role]),
  }));
  const helper = spawn(
    process.execPath,
    [path.join(root, 'dist', 'helper.js'), '--interval-ms', String(intervalMs)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const lines: string[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let seen = 0;
      const splitter = new LineSplitter((line) => {
        const msg = parseLine(line);
        if (msg.type === 'error' && msg.fatal) reject(new Error(`helper: ${msg.message}`));
        lines.push(JSON.stringify(trim(msg, keep)));
        if (msg.type === 'window' && ++seen >= windows) resolve();
      }, reject);
      helper.stdout.setEncoding('utf8').on('data', (c: string) => splitter.push(c));
      helper.on('exit', (code) => reject(new Error(`helper exited with ${code} before ${windows} windows`)));
    });
    for (const q of quiet) {
      const [run, wait] = schedstat(q.pid);
      const share = (100 * (wait - q.at[1])) / Math.max(1, run - q.at[0] + wait - q.at[1]);
      if (share > QUIET_WAIT_PERCENT)
        throw new Error(
          `the machine is too busy: ${q.role} waited for a CPU ${share.toFixed(0)}% of its runnable time (over ${QUIET_WAIT_PERCENT}%); its expected labels assume it could run. Record again on a quieter machine.`,
        );
    }
  } finally {
    helper.stdin.end();
    workload.stop();
  }
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${name}.jsonl`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  const roles = Object.entries(workload.pids)
    .filter(([role]) => expect.roles[role])
    .map(([role, tgid]) => ({ role, tgid, label: expect.roles[role] }));
  const defaultRoles = Object.entries(workload.pids).map(([role, tgid]) => ({
    role,
    tgid,
    label: expect.defaultRoles[role],
  }));
  writeFileSync(
    path.join(outDir, `${name}.expect.json`),
    `${JSON.stringify({ workload: name, config: expect.config, roles, defaultRoles }, null, 2)}\n`,
  );
  return file;
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  const flag = (f: string, d: number) => {
    const i = rest.indexOf(f);
    return i === -1 ? d : Number(rest[i + 1]);
  };
  const out = rest.includes('--out') ? rest[rest.indexOf('--out') + 1] : path.join(root, 'test', 'fixtures');
  if (!name || !(name in EXPECTATIONS)) {
    process.stderr.write(
      `usage: record <${Object.keys(EXPECTATIONS).join('|')}> [--windows N] [--interval-ms N] [--out dir]\n`,
    );
    process.exit(2);
  }
  const file = await record(name as WorkloadName, flag('--windows', 10), flag('--interval-ms', 1000), out);
  process.stdout.write(`recorded ${file}\n`);
}

if (require.main === module)
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`record: ${(e as Error).message}\n`);
    process.exit(1);
  });
