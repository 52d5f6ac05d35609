// Hardening on the real kernel: the helper ended 100 times in every way it can end leaves no BPF program, link or
// helper process behind; a map-full storm (a bounded fork storm against a small map) is counted and reported while
// the windows keep coming.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { test } from 'node:test';
import type { Drops, Window } from '../../src/shared/protocol';
import { HELPER, runHelper, stopHelper } from '../support/helper';
import { linksTo, ourProgIds, pidsRunning } from '../support/procs';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const helperProcesses = () => pidsRunning(HELPER);

/** The helper under a parent that holds its stdin open (the parent is what gets killed). */
const underParent = (cmd: string, a: string[]) =>
  spawn(
    cmd,
    [
      '-e',
      `require('child_process').spawn(process.execPath, ${JSON.stringify(a)}, { stdio: ['pipe', 'inherit', 'ignore'] }); setInterval(() => {}, 1e6);`,
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );

test('100 helper lifetimes ended by SIGKILL, SIGTERM, stdin EOF and parent death leave nothing behind', {
  timeout: 400_000,
}, async () => {
  const baseline = new Set(ourProgIds()); // programs of other runs still in flight are not ours to judge
  const ways = ['SIGKILL', 'SIGTERM', 'stdin EOF', 'parent death'] as const;
  for (let i = 0; i < 100; i++) {
    const way = ways[i % ways.length];
    const r = runHelper(['--interval-ms', '1000'], way === 'parent death' ? underParent : undefined);
    await r.next((m) => m.type === 'hello', 6000);
    if (way === 'stdin EOF') r.child.stdin?.end();
    else r.child.kill(way === 'parent death' ? 'SIGKILL' : way);
    await r.exited;
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

test('map-full storm: a bounded fork storm against a 64-entry exit map is counted as drops; windows keep coming', {
  timeout: 60_000,
}, async () => {
  const r = runHelper(['--interval-ms', '1000', '--max-exits', '64']);
  try {
    await r.next((m) => m.type === 'hello');
    const msgs = r.messages;
    // 600 short-lived processes, one after another: bounded, but far more TGIDs than the map holds.
    execFileSync('sh', ['-c', 'i=0; while [ $i -lt 600 ]; do /bin/true; i=$((i+1)); done']);
    const seq0 = msgs.filter((m) => m.type === 'window').length;
    for (let t = 0; t < 100 && msgs.filter((m) => m.type === 'window').length < seq0 + 2; t++)
      await sleep(50);
    const drops = msgs.filter((m): m is Drops => m.type === 'drops');
    assert.ok(drops.length > 0, 'a drops message was sent');
    const lost = drops.reduce((s, d) => s + (d.maps.exits ?? 0), 0);
    assert.ok(lost > 100, `updates lost to the full map were counted (${lost})`);
    const windows = msgs.filter((m): m is Window => m.type === 'window');
    assert.ok(windows.length >= seq0 + 2, 'windows keep coming after the storm');
    assert.ok(
      windows.every((w) => w.procs.filter((p) => p.exited).length <= 64 * 2),
      'a window never reports more exits than the map holds',
    );
  } finally {
    await stopHelper(r);
  }
});
