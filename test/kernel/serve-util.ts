// Starting `hotspot serve` (the built CLI) for the serve tests: its URL from the "listening on" line, its stderr
// for the messages, and a stop that waits for the exit code.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync, symlinkSync } from 'node:fs';
import * as path from 'node:path';

export const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');

export interface Served {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  /** SIGTERM, then the exit code (or the signal that ended it). */
  stop(): Promise<number | string>;
}

export function exited(child: ChildProcess): Promise<number | string> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve(child.exitCode ?? String(child.signalCode));
  return new Promise((resolve) => child.once('exit', (code, sig) => resolve(code ?? String(sig))));
}

/** Runs `hotspot serve <args>` and resolves once it listens (rejects with its stderr if it exits first). */
export function serve(
  args: string[],
  opts: { timeoutMs?: number; cmdPrefix?: string[] } = {},
): Promise<Served> {
  const prefix = opts.cmdPrefix ?? [];
  const argv = [...prefix.slice(1), process.execPath, CLI, 'serve', ...args];
  const child = spawn(prefix[0] ?? argv.shift()!, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => {
    err += c;
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await exited(child);
    clearTimeout(kill);
    return code;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`serve did not listen in time:\n${err}`));
    }, opts.timeoutMs ?? 30_000);
    child.stderr!.on('data', () => {
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1], stderr: () => err, stop });
      }
    });
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`serve exited ${code ?? sig}:\n${err}`), { code, stderr: err }));
    });
  });
}

/** Runs serve to its exit (for the refusals): exit code and stderr. */
export function serveToExit(
  args: string[],
  timeoutMs = 30_000,
): Promise<{ code: number | string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => {
    err += c;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return exited(child).then((code) => {
    clearTimeout(timer);
    return { code, stderr: err };
  });
}

/** BPF program ids loaded right now. */
export function progIds(): Set<number> {
  const progs = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' })) as {
    id: number;
  }[];
  return new Set(progs.map((p) => p.id));
}

/**
 * The programs loaded since `before` that are still loaded after up to `ms`: the kernel frees a tracing program
 * after an RCU grace period once its last fd closes (seen here: on_switch, on_fork and on_exit_btf loaded with no
 * process holding them for a few hundred ms after the helper exited).
 */
export async function programsLeft(before: Set<number>, ms = 5000): Promise<number[]> {
  const left = () => [...progIds()].filter((id) => !before.has(id));
  for (const deadline = Date.now() + ms; left().length && Date.now() < deadline; )
    await new Promise((r) => setTimeout(r, 100));
  return left();
}

export function uidOf(pid: number): number | undefined {
  try {
    const m = /^Uid:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A command under a name of our own: comm is the basename of the path exec'd, so a symlink named `name` to the
 * program gives its process that comm — one group of its own in the metrics, whatever else runs here.
 */
export function named(dir: string, name: string, target: string): string {
  const link = path.join(dir, name);
  symlinkSync(target, link);
  return link;
}

/** Polls `check` every 250 ms until it returns a value, or throws with `what` after `ms`. */
export async function waitFor<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? ` (last error: ${last})` : ''}`);
}
