// Exit accounting: a process's final CPU includes its last stretch on a CPU. The children of a fork loop, summed
// from their exit records, against what the kernel charged their parent for them (cutime + cstime, stat fields 16
// and 17, read in the same run).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import type { Window } from '../../src/shared/wire/protocol';
import { runHelper, stopHelper } from '../support/helper';
import { killAndWait, python, ready } from '../workloads';

const SECS = 10;

function childrenCpuNs(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[16 - 3]) + Number(f[17 - 3])) * 1e7;
}

const children: ReturnType<typeof python>[] = [];
after(async () => {
  for (const c of children) await killAndWait(c);
});

test('a fork loop: its children CPU, summed from their exits, within 10 % of cutime + cstime', {
  timeout: 90_000,
}, async () => {
  const loop = python('forkloop.py');
  children.push(loop);
  await ready(loop);
  const parent = loop.pid as number;
  const run = runHelper(['--interval-ms', '1000']);
  try {
    const w0 = (await run.next((m) => m.type === 'window')) as Window;
    await run.next((m) => m.type === 'window' && m.seq > w0.seq);
    const before = childrenCpuNs(parent);
    const first = w0.seq + 2;
    await run.next((m) => m.type === 'window' && m.seq >= first + SECS - 1, (SECS + 10) * 1000);
    const truth = childrenCpuNs(parent) - before;
    let ours = 0;
    let exits = 0;
    for (const m of run.messages)
      if (m.type === 'window' && m.seq >= first && m.seq < first + SECS)
        for (const p of m.procs)
          if (p.ppid === parent) {
            // A child a walk saw alive has its earlier part in that window (per-window deltas add up).
            ours += p.cpuNs;
            if (p.exited) exits++;
          }
    const msg = `${exits} children: Hotspot ${(ours / 1e6).toFixed(0)} ms, cutime + cstime ${(truth / 1e6).toFixed(0)} ms`;
    console.log(msg);
    assert.ok(exits > 50 && truth > 1e9, `too little to judge: ${msg}`);
    assert.ok(Math.abs(ours - truth) <= 0.1 * truth, msg);
  } finally {
    await stopHelper(run);
  }
});
