// The profiler's test workloads and a helper run that answers profile requests: shared by the kernel tests and the
// bench.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { ProfileResult } from '../../src/shared/wire/profile';
import type { HelperError, Message } from '../../src/shared/wire/protocol';
import type { Run } from './helper';

const WORKLOADS = path.resolve(__dirname, '..', 'workloads');
export const FIB_JS = path.join(WORKLOADS, 'fib.js');
export const JIT_FLAGS = ['--perf-basic-prof-only-functions', '--interpreted-frames-native-stack'];

let built: { twohot: string; stripped: string } | undefined;
/** test/workloads/twohot.c with frame pointers and DWARF, and a stripped copy of the same binary. */
export function twohotBinaries(): { twohot: string; stripped: string } {
  if (built && existsSync(built.twohot)) return built;
  const dir = mkdtempSync(path.join(tmpdir(), 'hotspot-twohot-'));
  const twohot = path.join(dir, 'twohot');
  const stripped = path.join(dir, 'twohot-stripped');
  execFileSync('cc', [
    '-O2',
    '-fno-omit-frame-pointer',
    '-g',
    '-pthread',
    '-o',
    twohot,
    path.join(WORKLOADS, 'twohot.c'),
  ]);
  execFileSync('strip', ['-o', stripped, twohot]);
  execFileSync('chmod', ['755', dir]); // run as nobody too
  built = { twohot, stripped };
  return built;
}

/** A workload that dies with the test (setpriv --pdeathsig), optionally as another user; stdout piped. */
export function startAs(cmd: string, args: string[], user?: string): ChildProcess {
  const as = user ? ['--reuid', user, '--regid', user === 'nobody' ? 'nogroup' : user, '--clear-groups'] : [];
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', ...as, '--', cmd, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: '/',
  });
  child.unref();
  return child;
}

/** The last "a_ns b_ns" line twohot printed: its own thread-CPU split between hot_a and hot_b. */
export function twohotSplit(out: string): { a: number; b: number } {
  const lines = out.trim().split('\n');
  const [a, b] = (lines[lines.length - 1] ?? '0 0').split(' ').map(Number);
  return { a, b };
}

export function collectStdout(child: ChildProcess): () => string {
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => {
    out += c;
  });
  return () => out;
}

let n = 0;
/** Sends a profile request and resolves with the answer: the profile or the error carrying its id. */
export async function requestProfile(
  r: Run,
  pid: number,
  durationMs: number,
  frequency = 99,
): Promise<ProfileResult | HelperError> {
  const id = `t${process.pid}-${++n}`;
  r.child.stdin!.write(`${JSON.stringify({ v: 1, type: 'profile', id, pid, durationMs, frequency })}\n`);
  return (await r.next(
    (m: Message) => (m.type === 'profile' || m.type === 'error') && (m as { id?: string }).id === id,
    durationMs + 30_000,
  )) as ProfileResult | HelperError;
}
