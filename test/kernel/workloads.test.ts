// The reference tool's reproduction workloads on the real kernel, end to end through the CLI:
// BPF → helper → protocol → classifier → `hotspot --json`. Thresholds are lowered only where a 2-core machine
// with 1 s windows needs it (the same configs the recorder stores next to the fixtures).
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { EXPECTATIONS } from '../../scripts/record';
import type { Diagnosis } from '../../src/shared/diagnosis/model';
import { cliJson } from '../support/cli';
import { startWorkload, type WorkloadName } from '../workloads';

const root = path.resolve(__dirname, '..', '..');
const _cli = path.join(root, 'dist', 'cli.js');

interface JsonWindow {
  seq: number;
  processes: Diagnosis[];
}

/** Runs `hotspot --json` for `windows` windows of 1 s, filtered to `pids`, and returns the parsed lines. */
async function runCli(pids: number[], windows: number, config: object): Promise<JsonWindow[]> {
  return (await cliJson(pids, windows, config)).map((l) => JSON.parse(l) as JsonWindow);
}

function labelsOf(windows: JsonWindow[], tgid: number): string[] {
  return windows.map((w) => w.processes.find((p) => p.tgid === tgid)?.label ?? '-');
}

async function diagnose(name: WorkloadName, windows: number) {
  const w = startWorkload(name);
  try {
    await new Promise((r) => setTimeout(r, 300)); // let python start and the loops settle
    const out = await runCli(Object.values(w.pids), windows, EXPECTATIONS[name].config);
    assert.equal(out.length, windows, 'one JSON line per window');
    return { out, pids: w.pids };
  } finally {
    w.stop();
  }
}

function assertRole(out: JsonWindow[], pids: Record<string, number>, role: string, label: string) {
  const seen = labelsOf(out, pids[role]);
  assert.ok(
    seen.includes(label),
    `${role} (pid ${pids[role]}) should be ${label} within ${out.length} windows, saw ${seen.join(', ')}`,
  );
  return out.flatMap((w) => w.processes.filter((p) => p.tgid === pids[role] && p.label === label));
}

test('yes > /dev/null is CPU-bound (unless preempted more than the reference rules allow)', async () => {
  const { out, pids } = await diagnose('cpu', 3);
  // The reference table calls a hog preempted > max_preempted times a window OK: on a machine with other work
  // running that is its (documented) behaviour, and what the default profile fixes. Judge it by the window's own
  // figures: a window that is not CPU-bound must show why.
  const maxPreempted = 50;
  const rows = out.flatMap((w) => w.processes.filter((p) => p.tgid === pids.cpu));
  if (!rows.some((d) => d.label === 'CPU-bound')) {
    for (const d of rows)
      assert.ok(
        d.metrics.preempted > maxPreempted || d.metrics.coreCpuPercent < 90,
        `not CPU-bound without a reason: ${JSON.stringify(d.metrics)}`,
      );
    return;
  }
  const hits = assertRole(out, pids, 'cpu', 'CPU-bound');
  assert.ok(
    hits.every((d) => d.metrics.coreCpuPercent > 85),
    'core% of a single-threaded hog is ~100',
  );
  assert.ok(hits[0].evidence.length > 0, 'the diagnosis carries its evidence');
});

test('two busy loops on one core: nice-19 victim is Starved, nice-0 aggressor a Noisy neighbor, pair reported', async () => {
  const { out, pids } = await diagnose('contention', 3);
  const victim = assertRole(out, pids, 'victim', 'Starved');
  assertRole(out, pids, 'aggressor', 'Noisy neighbor');
  assert.ok(
    victim.some((d) => d.preemptedBy.some((a) => a.tgid === pids.aggressor)),
    'the victim lists the aggressor among those that preempted it',
  );
});

test('madvise fault storm is Mem-thrashing', async () => {
  const { out, pids } = await diagnose('thrash', 3);
  const hits = assertRole(out, pids, 'thrash', 'Mem-thrashing');
  assert.ok(hits[0].metrics.faultsPerSec > 10_000, `faults/s ${hits[0].metrics.faultsPerSec}`);
});

test('a 40 MB/s leak is OOM risk within 3 windows, with a time-to-OOM', async () => {
  const { out, pids } = await diagnose('leak', 3);
  const hits = assertRole(out, pids, 'leak', 'OOM risk');
  assert.ok(hits[0].metrics.rssGrowing);
  assert.ok((hits[0].timeToOomSec ?? 0) > 0, 'a growing RSS has a time-to-OOM estimate');
});
