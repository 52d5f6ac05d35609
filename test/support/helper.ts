// Running the real helper and reading its protocol stream: shared by the kernel tests and the benchmarks.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { HELPER_NODE_FLAGS } from '../../src/host/rootPath';
import { LineSplitter, type Message, parseLine } from '../../src/shared/wire/protocol';

export const HELPER = path.resolve(__dirname, '..', '..', 'dist', 'helper.js');

export interface Run {
  child: ChildProcess;
  messages: Message[];
  stderr: () => string;
  next(pred: (m: Message) => boolean, timeoutMs?: number): Promise<Message>;
  exited: Promise<number | null>;
}

/**
 * Runs the helper (`helperJs`, by default the build in dist/) and parses its stdout as protocol messages.
 * `spawner` decides how: directly, as another user, or under a parent process.
 */
export function runHelper(
  args: string[],
  spawner: (cmd: string, a: string[]) => ChildProcess = (c, a) =>
    spawn(c, a, { stdio: ['pipe', 'pipe', 'pipe'] }),
  helperJs = HELPER,
): Run {
  assert.ok(existsSync(helperJs), `${helperJs} is missing: run "npm run build"`);
  const child = spawner(process.execPath, [...HELPER_NODE_FLAGS, helperJs, ...args]);
  const messages: Message[] = [];
  const waiters: { pred: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
  let err = '';
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    err += c;
  });
  const splitter = new LineSplitter(
    (line) => {
      const m = parseLine(line); // throws on anything that is not a valid protocol line
      messages.push(m);
      for (const w of waiters.splice(0))
        if (w.pred(m)) w.resolve(m);
        else waiters.push(w);
    },
    (e) => {
      throw e;
    },
  );
  child.stdout?.setEncoding('utf8').on('data', (c: string) => splitter.push(c));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return {
    child,
    messages,
    stderr: () => err,
    exited,
    next(pred, timeoutMs = 15_000) {
      const seen = messages.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out; stderr: ${err}`)), timeoutMs);
        waiters.push({
          pred,
          resolve: (m) => {
            clearTimeout(t);
            resolve(m);
          },
        });
      });
    },
  };
}

/** Ends a helper the way its supervisor does (stdin EOF) and waits for it to exit. */
export async function stopHelper(r: Run): Promise<void> {
  r.child.stdin?.end();
  await r.exited;
}
