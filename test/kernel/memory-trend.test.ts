// The memory trend on the real kernel: leaks of every speed and a compiler's heap, through the real helper and the
// classifier, with the labels held as the views hold them (Stabilizer), with a CPU loop and a bounded sawtooth
// competing, judged against the process's anonymous memory read from /proc at every window.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Diagnosis } from '../../src/shared/diagnosis/model';
import { Stabilizer } from '../../src/shared/diagnosis/stabilizer';
import { cause } from '../../src/shared/presentation/explain';
import { type Observation, Observer, story } from '../support/observe';
import { readTruth } from '../support/truth';
import { command, killAndWait, python, ready } from '../workloads';

const MiB = 2 ** 20;
const REPO = path.resolve(__dirname, '..', '..');

/** The labels as the views show them: each window's diagnosis through a Stabilizer. */
function shown(o: Observation, pid: number): (Diagnosis | undefined)[] {
  const s = new Stabilizer();
  return (o.diagnoses.get(pid) ?? []).map((d) => (d ? s.apply([d]).find((x) => x.tgid === pid) : undefined));
}

/** /proc's anonymous + shmem MiB at the end of each window (truth[i + 1] was read when window i arrived). */
function anonMb(o: Observation, pid: number): number[] {
  return (o.truth.get(pid) ?? [])
    .slice(1)
    .map((t) => (t ? (t.rssAnonBytes + t.rssShmemBytes) / MiB : Number.NaN));
}

function table(o: Observation, pid: number): string {
  const mb = anonMb(o, pid);
  return story(shown(o, pid), cause)
    .split(' | ')
    .map((s, i) => `\n  ${i}: /proc ${mb[i]?.toFixed(0)} MiB · ${s}`)
    .join('');
}

/** Waits for a line on the child's stdout. */
function line(child: ChildProcess, text: string, timeoutMs = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`no "${text}" within ${timeoutMs} ms`)), timeoutMs);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes(text)) {
        clearTimeout(t);
        resolve();
      }
    });
  });
}

for (const intervalMs of [1000, 5000]) {
  const secs = intervalMs / 1000;
  describe(`memory trend, ${secs} s windows`, { timeout: 240_000 }, () => {
    let obs: Observer;
    // Competing load for every case: a CPU loop, and a bounded sawtooth (64 MiB kept, 96 MiB built and freed every
    // ~1.5 s) that is watched beside each workload and must never read OOM risk.
    let loop: ChildProcess | undefined;
    let saw: ChildProcess | undefined;
    before(async () => {
      loop = command('sh', ['-c', 'while :; do :; done']);
      saw = python('sawtooth.py', ['96']);
      await ready(saw);
      obs = await Observer.start(intervalMs);
    });
    after(async () => {
      await obs?.stop();
      await killAndWait(loop);
      await killAndWait(saw);
    });
    /** The pids to watch beside `pid`, and the check that the sawtooth stayed OK (not OOM risk) meanwhile. */
    const withLoad = (pid: number) => [pid, saw!.pid!];
    const sawStayedOk = (o: Observation) => {
      const flagged = shown(o, saw!.pid!).filter((d) => d?.label === 'OOM risk');
      assert.deepEqual(
        flagged.map((d) => cause(d!)),
        [],
        `the competing sawtooth:${table(o, saw!.pid!)}`,
      );
    };

    test('a 5 MiB/s leak on a warm 480 MiB heap: OOM risk within 30 s of passing 500 MiB, held while it grows', async () => {
      const leak = python('steadyleak.py', ['480', '5', String(3 * secs)]);
      try {
        await ready(leak);
        const pid = leak.pid!;
        const o = await obs.watch(withLoad(pid), {
          windows: Math.ceil(75 / secs),
          // Enough seen: 30 s past 500 MiB by /proc.
          until: (x) => {
            const mb = anonMb(x, pid);
            const k = mb.findIndex((v) => v >= 500);
            return k >= 0 && (mb.length - 1 - k) * secs >= 32;
          },
        });
        sawStayedOk(o);
        const mb = anonMb(o, pid);
        const labels = shown(o, pid);
        const passed = mb.findIndex((v) => v >= 500);
        const first = labels.findIndex((d) => d?.label === 'OOM risk');
        assert.ok(passed >= 0, `never passed 500 MiB:${table(o, pid)}`);
        assert.ok(
          first >= 0 && (first - passed) * secs <= 30,
          `first OOM risk ${(first - passed) * secs} s after 500 MiB:${table(o, pid)}`,
        );
        assert.ok(
          labels.slice(first).every((d) => d?.label === 'OOM risk'),
          `held while it grows:${table(o, pid)}`,
        );
        process.stdout.write(
          `# 5 MiB/s leak (${secs} s windows): 500 MiB in window ${passed}, OOM risk from ${first}${table(o, pid)}\n`,
        );
        // The rate it states is the rate /proc shows over the same windows.
        const last = labels.at(-1)!;
        const procRate = (mb.at(-1)! - mb[first]) / ((mb.length - 1 - first) * secs);
        assert.ok(
          Math.abs(last.metrics.anonSlopeMbPerSec - procRate) <= 0.25 * procRate,
          `${cause(last)} vs /proc ${procRate.toFixed(1)} MiB/s`,
        );
        assert.match(
          cause(last),
          /^anonymous memory \+\d(\.\d+)? MiB\/s for \d+ s, uses up the machine's available .* in ~\d+(\.\d)? (min|h)$/,
        );
      } finally {
        await killAndWait(leak);
      }
    });

    test('a leak that stops: OK again within 3 windows of the last growth /proc saw', async () => {
      // Long enough at 40 MiB/s to be seen at either window length (the watch begins at the next boundary).
      const leak = python('steadyleak.py', ['100', '40', '1', String(Math.max(12, 6 * secs))]);
      try {
        await ready(leak);
        const stopped = line(leak, 'stopped');
        const pid = leak.pid!;
        let stopSeen = false;
        void stopped.then(() => {
          stopSeen = true;
        });
        let after = 0;
        const o = await obs.watch(withLoad(pid), {
          windows: Math.ceil(60 / secs),
          until: () => stopSeen && ++after > 5,
        });
        sawStayedOk(o);
        const mb = anonMb(o, pid);
        const labels = shown(o, pid);
        const peak = labels.findIndex((d) => d?.label === 'OOM risk');
        assert.ok(peak >= 0, `never OOM risk while it grew at 40 MiB/s:${table(o, pid)}`);
        // The last window in which /proc saw it grow by more than 1 MiB.
        let grew = -1;
        for (let i = 1; i < mb.length; i++) if (mb[i] - mb[i - 1] > 1) grew = i;
        assert.ok(
          grew >= peak && grew + 3 < labels.length,
          `not enough windows after the stop:${table(o, pid)}`,
        );
        process.stdout.write(
          `# stopping leak (${secs} s windows): last growth in window ${grew}${table(o, pid)}\n`,
        );
        assert.equal(labels[grew + 3]?.label, 'OK', `3 windows after the last growth:${table(o, pid)}`);
        assert.ok(
          labels.slice(grew + 3).every((d) => d?.label === 'OK'),
          `stays OK:${table(o, pid)}`,
        );
      } finally {
        await killAndWait(leak);
      }
    });

    test('tsc --noEmit on this repository is never OOM risk', async () => {
      const tsc = command(process.execPath, [
        path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'),
        '--noEmit',
        '-p',
        REPO,
      ]);
      try {
        const pid = tsc.pid!;
        let done = false;
        tsc.once('exit', () => {
          done = true;
        });
        // /proc every 100 ms while it runs: tsc may finish within one 5 s window.
        let peak = 0;
        const poll = setInterval(() => {
          const t = readTruth(pid);
          if (t) peak = Math.max(peak, (t.rssAnonBytes + t.rssShmemBytes) / MiB);
        }, 100);
        let after = 0;
        const o = await obs
          .watch(withLoad(pid), { windows: Math.ceil(90 / secs), until: () => done && ++after > 1 })
          .finally(() => clearInterval(poll));
        sawStayedOk(o);
        // It did grow like a leak would for a while (else this case could not fail).
        assert.ok(peak >= 150, `tsc peaked at ${peak} MiB anonymous`);
        const flagged = shown(o, pid).filter((d) => d?.label === 'OOM risk');
        process.stdout.write(
          `# tsc (${secs} s windows): peak ${peak.toFixed(0)} MiB by /proc${table(o, pid)}\n`,
        );
        assert.deepEqual(
          flagged.map((d) => cause(d!)),
          [],
          `tsc:${table(o, pid)}`,
        );
      } finally {
        await killAndWait(tsc);
      }
    });
  });
}
