// Ground truth for blocked time, exact where states.py samples: bpftrace follows the scheduler's own events for the
// given threads — switched out in D until woken (off CPU, blocked), woken or preempted until switched in (waiting
// for a CPU), switched in until switched out (on a CPU) — with its own clock, apart from Hotspot's code path (the
// run-queue clocks and sched_info stamps that tasks.bpf.c reads).
import { execFileSync, spawn } from 'node:child_process';

export interface OffCpu {
  /** off CPU in D (TASK_UNINTERRUPTIBLE, not TASK_NOLOAD), ns */
  blockedNs: number;
  /** runnable, not running, ns */
  waitNs: number;
  /** on a CPU, ns */
  cpuNs: number;
}

/** The part of a thread's non-sleeping time that it spent blocked: the figure Hotspot's I/O-bound rule reads. */
export const blockedShareOf = (o: OffCpu): number =>
  o.blockedNs / Math.max(1, o.blockedNs + o.waitNs + o.cpuNs);

/** The program: one clause per event; `tids` are matched literally (bpftrace 0.17 has no set type). */
function program(tids: number[], secs: number): string {
  const any = (v: string) => tids.map((t) => `${v} == ${t}`).join(' || ');
  // Keys are never deleted (bpftrace 0.17 fails printing or clearing a map that shrinks under it): 0 = not pending.
  return `
tracepoint:sched:sched_switch {
  $p = (uint32)args->prev_pid; $n = (uint32)args->next_pid;
  if (${any('$p')}) {
    if (args->prev_state == 2) { @ds[$p] = nsecs; }
    if (args->prev_state == 0) { @rs[$p] = nsecs; }
    if (@in[$p]) { @cpu[$p] += nsecs - @in[$p]; }
  }
  if (${any('$n')}) {
    if (@rs[$n]) { @wait[$n] += nsecs - @rs[$n]; @rs[$n] = 0; }
    @in[$n] = nsecs;
  }
}
tracepoint:sched:sched_wakeup {
  $w = (uint32)args->pid;
  if (@ds[$w]) { @blocked[$w] += nsecs - @ds[$w]; @ds[$w] = 0; @rs[$w] = nsecs; }
}
interval:s:${secs} { exit(); }
`;
}

/**
 * Traces `tids` (threads: a single-threaded process's pid) for `secs` seconds on CPU `cpu`. Resolves once bpftrace
 * has attached (it prints "Attaching" first), with the promise of its figures.
 */
export async function traceOffCpu(
  tids: number[],
  secs: number,
  cpu = '1',
): Promise<{ done: Promise<Map<number, OffCpu>> }> {
  // bpftrace's tracepoint: probes need tracefs, which a fresh machine may not have mounted.
  try {
    execFileSync('mountpoint', ['-q', '/sys/kernel/tracing']);
  } catch {
    execFileSync('mount', ['-t', 'tracefs', 'nodev', '/sys/kernel/tracing']);
  }
  const bt = spawn(
    'setpriv',
    ['--pdeathsig', 'KILL', '--', 'taskset', '-c', cpu, 'bpftrace', '-e', program(tids, secs)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  bt.stdout.setEncoding('utf8').on('data', (c: string) => {
    out += c;
  });
  bt.stderr.setEncoding('utf8').on('data', (c: string) => {
    err += c;
  });
  const exited = new Promise<number | null>((r) => bt.on('exit', (code) => r(code)));
  const attached = await Promise.race([
    new Promise<boolean>((r) => bt.stdout.on('data', () => /Attaching \d+ probe/.test(out) && r(true))),
    exited.then(() => false),
    new Promise<boolean>((r) => setTimeout(() => r(false), 30_000).unref()),
  ]);
  if (!attached) {
    bt.kill('SIGKILL');
    throw new Error(`bpftrace did not attach: ${err}`);
  }
  const done = exited.then((code) => {
    if (code !== 0) throw new Error(`bpftrace exited ${code}: ${err}`);
    const read = (map: string, tid: number) =>
      Number(new RegExp(`^@${map}\\[${tid}\\]: (\\d+)$`, 'm').exec(out)?.[1] ?? 0);
    return new Map(
      tids.map((t) => [t, { blockedNs: read('blocked', t), waitNs: read('wait', t), cpuNs: read('cpu', t) }]),
    );
  });
  return { done };
}
