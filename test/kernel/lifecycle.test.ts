// Hardening on the real kernel: the helper ended 100 times in every way it can end leaves no BPF program, link or
// helper process behind; a map-full storm (a bounded fork storm against a small map) is counted and reported while
// the windows keep coming.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { type Drops, LineSplitter, type Message, parseLine, type Window } from '../../src/shared/protocol';
import { pidsRunning } from '../support/procs';

const HELPER = path.resolve(__dirname, '..', '..', 'dist', 'helper.js');
const OURS = /^(on_switch|on_exec|fault_(tp_btf|raw_tp|tracepoint|fentry|kprobe))$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Prog {
  id: number;
  name?: string;
}
const ourProgIds = () =>
  (JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' })) as Prog[])
    .filter((p) => OURS.test(p.name ?? ''))
    .map((p) => p.id);
const linksTo = (ids: number[]) =>
  (
    JSON.parse(execFileSync('bpftool', ['-j', 'link', 'show'], { encoding: 'utf8' })) as { prog_id: number }[]
  ).filter((l) => ids.includes(l.prog_id));
const helperProcesses = () => pidsRunning(HELPER);

/** Spawns the helper (or a parent that spawns it) and resolves with its messages once hello has arrived. */
async function started(child: ChildProcess): Promise<Message[]> {
  const msgs: Message[] = [];
  const sp = new LineSplitter(
    (l) => msgs.push(parseLine(l)),
    (e) => assert.fail(e),
  );
  child.stdout?.setEncoding('utf8').on('data', (c: string) => sp.push(c));
  for (let i = 0; i < 300 && !msgs.some((m) => m.type === 'hello'); i++) await sleep(20);
  assert.ok(
    msgs.some((m) => m.type === 'hello'),
    'hello within 6 s',
  );
  return msgs;
}

const exited = (c: ChildProcess) =>
  c.exitCode !== null || c.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((r) => c.once('exit', () => r()));

test('100 helper lifetimes ended by SIGKILL, SIGTERM, stdin EOF and parent death leave nothing behind', {
  timeout: 400_000,
}, async () => {
  const baseline = new Set(ourProgIds()); // programs of other runs still in flight are not ours to judge
  const ways = ['SIGKILL', 'SIGTERM', 'stdin EOF', 'parent death'] as const;
  for (let i = 0; i < 100; i++) {
    const way = ways[i % ways.length];
    if (way === 'parent death') {
      // A parent that holds the helper's stdin open and is then killed outright.
      const parent = spawn(
        process.execPath,
        [
          '-e',
          `const c = require('child_process').spawn(process.execPath, [${JSON.stringify(HELPER)}, '--interval-ms', '1000'], { stdio: ['pipe', 'inherit', 'ignore'] }); setInterval(() => {}, 1e6);`,
        ],
        { stdio: ['ignore', 'pipe', 'ignore'] },
      );
      await started(parent);
      parent.kill('SIGKILL');
      await exited(parent);
    } else {
      const h = spawn(process.execPath, [HELPER, '--interval-ms', '1000'], {
        stdio: ['pipe', 'pipe', 'ignore'],
      });
      await started(h);
      if (way === 'stdin EOF') h.stdin?.end();
      else h.kill(way);
      await exited(h);
    }
    // The helper itself must be gone promptly (PDEATHSIG for the parent case).
    for (let t = 0; t < 50 && helperProcesses().length; t++) await sleep(20);
    assert.deepEqual(helperProcesses(), [], `iteration ${i} (${way}): no helper process left`);
  }
  let left: number[] = [];
  for (let t = 0; t < 50; t++) {
    left = ourProgIds().filter((id) => !baseline.has(id));
    if (!left.length) break;
    await sleep(100);
  }
  assert.deepEqual(left, [], 'no Hotspot BPF program left after 100 lifetimes');
  assert.deepEqual(linksTo(left), [], 'no Hotspot BPF link left');
});

test('map-full storm: a bounded fork storm against a 64-entry map is counted as drops; windows keep coming', {
  timeout: 60_000,
}, async () => {
  const h = spawn(process.execPath, [HELPER, '--interval-ms', '1000', '--max-procs', '64'], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  try {
    const msgs = await started(h);
    // 600 short-lived processes, one after another: bounded, but far more TGIDs than the map holds.
    execFileSync('sh', ['-c', 'i=0; while [ $i -lt 600 ]; do /bin/true; i=$((i+1)); done']);
    const seq0 = msgs.filter((m) => m.type === 'window').length;
    for (let t = 0; t < 100 && msgs.filter((m) => m.type === 'window').length < seq0 + 2; t++)
      await sleep(50);
    const drops = msgs.filter((m): m is Drops => m.type === 'drops');
    assert.ok(drops.length > 0, 'a drops message was sent');
    const lost = drops.reduce((s, d) => s + (d.maps.procs ?? 0) + (d.maps.faults ?? 0), 0);
    assert.ok(lost > 100, `updates lost to the full map were counted (${lost})`);
    const windows = msgs.filter((m): m is Window => m.type === 'window');
    assert.ok(windows.length >= seq0 + 2, 'windows keep coming after the storm');
    assert.ok(
      windows.every((w) => w.procs.length <= 64 * 2),
      'a window never reports more processes than the maps hold',
    );
  } finally {
    h.stdin?.end();
    await exited(h);
  }
});
