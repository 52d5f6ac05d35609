// The reference tool's reproduction workloads, started as real processes for tests, the recorder and the bench.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export type WorkloadName = 'cpu' | 'contention' | 'thrash' | 'leak' | 'alloc' | 'sawtooth' | 'readleak';

export interface Workload {
  /** The processes whose diagnosis matters, by role. */
  pids: Record<string, number>;
  stop(): void;
}

const here = __dirname;
const busyLoop = 'while :; do :; done';
/**
 * Every workload runs under `setpriv --pdeathsig KILL` (it then execs the command, same pid): if the test process
 * is killed before its `finally` runs, its workloads go with it instead of loading the machine for whoever comes
 * next (a killed run once left four for 35 minutes, and every figure measured meanwhile was wrong).
 */
const DIE_WITH_PARENT = ['setpriv', '--pdeathsig', 'KILL', '--'];

function start(cmd: string, args: string[], cwd?: string): ChildProcess {
  // Not detached: a new session would also mean a new autogroup, and CFS then splits the CPU between the
  // two loops 50/50 whatever their nice values. Every workload execs into a single process, so killing the
  // child is enough.
  const child = spawn(DIE_WITH_PARENT[0], [...DIE_WITH_PARENT.slice(1), cmd, ...args], {
    cwd,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
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
    case 'sawtooth':
      add('sawtooth', start('python3', [path.join(here, 'sawtooth.py'), '160'], opts.cwd));
      break;
    case 'readleak':
      add('readleak', start('python3', [path.join(here, 'readleak.py'), '32'], opts.cwd));
      break;
    case 'alloc':
      add('alloc', start('python3', [path.join(here, 'alloc.py'), String(opts.allocMb ?? 256)], opts.cwd));
      break;
  }
  return { pids, stop: () => children.forEach(kill) };
}

// ---- the diagnosis suite's workloads (test/kernel/diagnoses.test.ts)

let burner: string | undefined;
/** burn.c built once per test run with the system compiler (gcc is part of the test machine, as for cc1). */
export function burnerPath(): string {
  if (burner && existsSync(burner)) return burner;
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'hotspot-burn-')), 'burn');
  execFileSync('cc', ['-O1', '-pthread', '-o', out, path.join(here, 'burn.c')]);
  burner = out;
  return out;
}

/** A script of this folder run by python3 (`HOTSPOT_LEAK_CAP_MB` caps every leak). */
export function python(script: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(
    DIE_WITH_PARENT[0],
    [...DIE_WITH_PARENT.slice(1), 'python3', path.join(here, script), ...args],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...env },
    },
  );
  child.unref();
  return child;
}

/** Resolves once the child printed "ready" (scripts that set memory up first say so). */
export function ready(child: ChildProcess, timeoutMs = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`no "ready" within ${timeoutMs} ms`)), timeoutMs);
    child.stdout?.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      if (out.includes('ready')) {
        clearTimeout(t);
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`exited with ${code} before it was ready`)));
  });
}

/** Any command, optionally pinned to CPUs with taskset and reniced. */
export function command(cmd: string, args: string[], o: { cpus?: string; nice?: number } = {}): ChildProcess {
  const argv = [cmd, ...args];
  if (o.nice !== undefined) argv.unshift('nice', '-n', String(o.nice));
  if (o.cpus !== undefined) argv.unshift('taskset', '-c', o.cpus);
  argv.unshift(...DIE_WITH_PARENT);
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] });
  child.unref();
  return child;
}

/** A C file big enough that cc1 works for several seconds: many functions with loops and arithmetic to optimise. */
export function bigCSource(functions: number): string {
  const out: string[] = ['#include <stddef.h>'];
  for (let i = 0; i < functions; i++)
    out.push(
      `long f${i}(long *a, size_t n) { long s = ${i}; for (size_t k = 0; k < n; k++) { s += a[k] * ${(i % 7) + 1} ^ (s >> ${(i % 5) + 1}); if (s % ${(i % 11) + 2} == 0) s -= a[(k + ${i}) % n]; } return s; }`,
    );
  out.push('int main(void) { return 0; }');
  return out.join('\n');
}

/** Kills a child (SIGKILL) if it still runs; waits for it to be gone. */
export async function killAndWait(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.ref(); // an unref'd child would let the event loop end before its exit is seen (e.g. in an after hook)
  child.kill('SIGKILL');
  await gone;
}

/** Size of a file, 0 when missing. */
export const fileSize = (f: string) => (existsSync(f) ? statSync(f).size : 0);
