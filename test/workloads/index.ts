// The reference tool's reproduction workloads, started as real processes for tests, the recorder and the bench.
import { type ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';

export type WorkloadName = 'cpu' | 'contention' | 'thrash' | 'leak' | 'alloc';

export interface Workload {
  /** The processes whose diagnosis matters, by role. */
  pids: Record<string, number>;
  stop(): void;
}

const here = __dirname;
const busyLoop = 'while :; do :; done';

function start(cmd: string, args: string[], cwd?: string): ChildProcess {
  // Not detached: a new session would also mean a new autogroup, and CFS then splits the CPU between the
  // two loops 50/50 whatever their nice values. Every workload execs into a single process, so killing the
  // child is enough.
  const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
  child.unref();
  return child;
}

function kill(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Starts a workload; `cwd` lets e2e tests place it inside a workspace folder. */
export function startWorkload(name: WorkloadName, opts: { cwd?: string; allocMb?: number } = {}): Workload {
  const children: ChildProcess[] = [];
  const pids: Record<string, number> = {};
  const add = (role: string, child: ChildProcess) => {
    children.push(child);
    pids[role] = child.pid!;
  };
  switch (name) {
    case 'cpu':
      add('cpu', start('yes', [], opts.cwd)); // stdout is /dev/null, as in `yes > /dev/null`
      break;
    case 'contention':
      // Same core: the nice-0 loop (aggressor) takes ~98.5% and keeps preempting the nice-19 loop (victim).
      add('aggressor', start('taskset', ['-c', '0', 'bash', '-c', busyLoop], opts.cwd));
      add('victim', start('taskset', ['-c', '0', 'nice', '-n', '19', 'bash', '-c', busyLoop], opts.cwd));
      break;
    case 'thrash':
      add('thrash', start('python3', [path.join(here, 'thrash.py')], opts.cwd));
      break;
    case 'leak':
      add('leak', start('python3', [path.join(here, 'leak.py')], opts.cwd));
      break;
    case 'alloc':
      add('alloc', start('python3', [path.join(here, 'alloc.py'), String(opts.allocMb ?? 256)], opts.cwd));
      break;
  }
  return { pids, stop: () => children.forEach(kill) };
}
