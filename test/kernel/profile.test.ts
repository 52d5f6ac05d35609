// The on-demand CPU profile against the real kernel: the helper samples, the user's side names the frames, and the
// shares are judged against what the workload measured of itself. Needs root (loads BPF, runs workloads as nobody).
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { Profile } from 'pprof-format';
import { ProcessImage } from '../../src/host/profile/image';
import { symbolize } from '../../src/host/profile/symbolize';
import { folded } from '../../src/shared/profile/formats';
import { hotFunctions, type SymbolizedProfile, stackSamples } from '../../src/shared/profile/model';
import type { ProfileResult } from '../../src/shared/wire/profile';
import type { HelperError } from '../../src/shared/wire/protocol';
import { HELPER, runHelper, stopHelper } from '../support/helper';
import { bpfProgIdsOf, onSampleIds, perfFds } from '../support/procs';
import {
  collectStdout,
  FIB_JS,
  JIT_FLAGS,
  requestProfile,
  startAs,
  twohotBinaries,
  twohotSplit,
} from '../support/profile';

const skip = process.getuid?.() !== 0 ? 'needs root' : false;
const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');
const NOBODY = 65534;
const started: ChildProcess[] = [];
after(() => {
  for (const c of started) c.kill('SIGKILL');
});

function isProfile(m: ProfileResult | HelperError): ProfileResult {
  assert.equal(m.type, 'profile', `expected a profile, got ${JSON.stringify(m)}`);
  return m as ProfileResult;
}

/** Resolves once `pred` holds (polled), or fails naming what was awaited. */
async function until(what: string, pred: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const selfShare = (p: SymbolizedProfile, name: RegExp) => {
  const n = stackSamples(p);
  return (
    (hotFunctions(p)
      .filter((h) => name.test(p.frames[h.frame].name))
      .reduce((s, h) => s + h.self, 0) /
      n) *
    100
  );
};

test("a request for another user's process is refused; the owner's own is profiled; malformed requests are refused", {
  skip,
  timeout: 120_000,
}, async () => {
  const { twohot } = twohotBinaries();
  const w = startAs(twohot, ['1'], 'nobody');
  started.push(w);
  // The helper as pkexec starts it for user 1 (daemon), then for nobody.
  const spawnAs = (uid: number) => (cmd: string, a: string[]) =>
    spawn(cmd, a, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, PKEXEC_UID: String(uid) },
    });
  const other = runHelper(['--interval-ms', '5000'], spawnAs(1));
  try {
    await other.next((m) => m.type === 'hello', 60_000);
    const refused = (await requestProfile(other, w.pid!, 1000)) as HelperError;
    assert.equal(refused.type, 'error');
    assert.match(
      refused.message,
      new RegExp(`process ${w.pid} belongs to user ${NOBODY}, not to you \\(user 1\\)`),
    );
    assert.equal(refused.fatal, false);
    for (const bad of [
      '{"v":1,"type":"profile","id":"x1","pid":1,"durationMs":1000,"frequency":99,"extra":1}',
      '{"v":1,"type":"profile","id":"x2","pid":1,"durationMs":1000,"frequency":99,"__proto__":{"polluted":1}}',
      '{"v":1,"type":"profile","id":"x3","pid":1,"durationMs":999999,"frequency":99}',
      '{"v":2,"type":"profile","id":"x4","pid":1,"durationMs":1000,"frequency":99}',
    ]) {
      const id = /"id":"(x\d)"/.exec(bad)![1];
      other.child.stdin!.write(`${bad}\n`);
      const e = (await other.next((m) => m.type === 'error' && m.id === id)) as HelperError;
      assert.equal(e.code, 'BAD_ARGS', e.message);
    }
  } finally {
    await stopHelper(other);
  }
  const owner = runHelper(['--interval-ms', '5000'], spawnAs(NOBODY));
  try {
    await owner.next((m) => m.type === 'hello', 60_000);
    const p = isProfile(await requestProfile(owner, w.pid!, 1500));
    assert.ok(p.samples > 0, "the owner's process was sampled");
  } finally {
    await stopHelper(owner);
  }
});

test("two hot functions are named, their shares within 5 points of the program's own measurement; every thread sampled; a stripped copy says it has no symbols", {
  skip,
  timeout: 120_000,
}, async () => {
  const { twohot, stripped } = twohotBinaries();
  const w = startAs(twohot, ['2']);
  const s = startAs(stripped, ['1']);
  started.push(w, s);
  const out = collectStdout(w);
  const sout = collectStdout(s);
  const r = runHelper(['--interval-ms', '5000']);
  try {
    await r.next((m) => m.type === 'hello', 60_000);
    await until('twohot to report', () => out().includes('\n'));
    const image = new ProcessImage(w.pid!);
    const before = twohotSplit(out());
    const raw = isProfile(await requestProfile(r, w.pid!, 4000));
    const afterSplit = twohotSplit(out());
    const p = await symbolize(raw, image);
    const a = afterSplit.a - before.a;
    const b = afterSplit.b - before.b;
    const truthA = (a / (a + b)) * 100;
    const shareA = selfShare(p, /^hot_a\b/);
    const shareB = selfShare(p, /^hot_b\b/);
    console.log(
      `  hot_a ${shareA.toFixed(1)} % / hot_b ${shareB.toFixed(1)} % of ${stackSamples(p)} samples; program: ${truthA.toFixed(1)} / ${(100 - truthA).toFixed(1)}`,
    );
    assert.ok(stackSamples(p) >= 50, `too few samples (${stackSamples(p)}) to judge shares`);
    // Shares of the samples in either function (the rest is the loop's clock reads and the kernel).
    const inBoth = shareA + shareB;
    assert.ok(inBoth > 80, `hot_a + hot_b ${inBoth.toFixed(1)} %`);
    assert.ok(
      Math.abs((shareA / inBoth) * 100 - truthA) <= 5,
      `hot_a ${((shareA / inBoth) * 100).toFixed(1)} % vs ${truthA.toFixed(1)} %`,
    );
    const a1 = p.frames.find((f) => f.func === 'hot_a');
    assert.equal(path.basename(a1?.file ?? ''), 'twohot.c', 'file:line from DWARF');
    // Every thread: both workers took samples (the main thread sleeps).
    const tids = raw.threads.filter((t) => t.samples > 0);
    assert.ok(tids.length >= 2, `threads sampled: ${JSON.stringify(raw.threads)}`);
    // folded sums to the sample count.
    const sum = folded(p)
      .trim()
      .split('\n')
      .reduce((n, line) => n + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
    assert.equal(sum, stackSamples(p));
    assert.equal(stackSamples(p) + raw.lost + raw.omitted, raw.samples + raw.lost);

    await until('the stripped copy to run', () => sout().includes('\n'));
    const simage = new ProcessImage(s.pid!);
    const sp = await symbolize(isProfile(await requestProfile(r, s.pid!, 2000)), simage);
    const top = sp.frames[hotFunctions(sp)[0].frame];
    assert.equal(top.kind, 'unnamed');
    assert.match(top.name, /^\[twohot-stripped: no symbols: stripped\]$/);
    assert.equal(top.reason, 'no symbols: stripped');
    assert.ok(
      sp.notes.some((n) => /stripped/.test(n)),
      sp.notes.join(' | '),
    );
  } finally {
    await stopHelper(r);
  }
});

test('a Node script started with the perf-map flags has fib (fib.js:LINE) as its top frame; without them the profile says why JS frames are unnamed', {
  skip,
  timeout: 120_000,
}, async () => {
  const line =
    readFileSync(FIB_JS, 'utf8')
      .split('\n')
      .findIndex((l) => l.startsWith('function fib(')) + 1;
  const withFlags = startAs(process.execPath, [...JIT_FLAGS, FIB_JS]);
  const without = startAs(process.execPath, [FIB_JS]);
  started.push(withFlags, without);
  const map = `/tmp/perf-${withFlags.pid}.map`;
  const r = runHelper(['--interval-ms', '5000']);
  try {
    await r.next((m) => m.type === 'hello', 60_000);
    await until(
      'fib in the perf map',
      () => existsSync(map) && /JS:\*fib /.test(readFileSync(map, 'latin1')),
    );
    await until('the script without flags to run', () => {
      try {
        return readlinkSync(`/proc/${without.pid}/exe`) === realpathSync(process.execPath);
      } catch {
        return false;
      }
    });
    const p = await symbolize(
      isProfile(await requestProfile(r, withFlags.pid!, 3000)),
      new ProcessImage(withFlags.pid!),
    );
    const top = p.frames[hotFunctions(p)[0].frame];
    console.log(`  top: ${top.name} of ${stackSamples(p)} samples; notes: ${p.notes.join(' | ')}`);
    assert.equal(top.name, `fib (fib.js:${line})`);
    assert.equal(top.file, FIB_JS);
    assert.equal(top.line, line);

    const q = await symbolize(
      isProfile(await requestProfile(r, without.pid!, 2000)),
      new ProcessImage(without.pid!),
    );
    assert.ok(
      q.notes.some(
        (n) =>
          /JIT frames are unnamed: node was started without a perf map/.test(n) &&
          n.includes('--perf-basic-prof-only-functions'),
      ),
      q.notes.join(' | '),
    );
    assert.ok(q.frames.some((f) => f.reason === 'JIT without a perf map'));
  } finally {
    await stopHelper(r);
    withFlags.kill('SIGKILL');
    rmSync(map, { force: true });
  }
});

test('a process that exits mid-profile gives a partial profile that says so', {
  skip,
  timeout: 60_000,
}, async () => {
  const { twohot } = twohotBinaries();
  const w = startAs(twohot, ['1', '3']); // lives 3 s
  started.push(w);
  const out = collectStdout(w);
  const r = runHelper(['--interval-ms', '5000']);
  try {
    await r.next((m) => m.type === 'hello', 60_000);
    await until('twohot to run', () => out().includes('\n')); // exec'd: its maps are twohot's, not setpriv's
    const image = new ProcessImage(w.pid!);
    const raw = isProfile(await requestProfile(r, w.pid!, 8000));
    assert.equal(raw.ended, 'exited');
    assert.ok(raw.durationMs < 6000, `ended after ${raw.durationMs} ms`);
    assert.ok(raw.samples > 0);
    const p = await symbolize(raw, image);
    assert.ok(
      p.notes.some((n) => /exited after .* partial profile/.test(n)),
      p.notes.join(' | '),
    );
    assert.ok(
      hotFunctions(p).some((h) => p.frames[h.frame].func === 'hot_a'),
      'named from the maps read while it ran',
    );
  } finally {
    await stopHelper(r);
  }
});

test('kill -9 of the helper mid-profile leaves nothing attached', { skip, timeout: 60_000 }, async () => {
  const { twohot } = twohotBinaries();
  const w = startAs(twohot, ['1']);
  started.push(w);
  const r = runHelper(['--interval-ms', '5000']);
  try {
    await r.next((m) => m.type === 'hello', 60_000);
    const pid = r.child.pid!;
    r.child.stdin!.write(
      `${JSON.stringify({ v: 1, type: 'profile', id: 'k9', pid: w.pid, durationMs: 30000, frequency: 99 })}\n`,
    );
    await until('the profiler attached', () => r.stderr().includes('profiling'));
    const mine = onSampleIds().filter((id) => bpfProgIdsOf(pid).includes(id));
    assert.ok(mine.length >= 1, 'the helper holds the sampling program');
    assert.ok(perfFds(pid) >= 1, 'and perf events (one per online CPU)');
    const linked = () =>
      (
        JSON.parse(execFileSync('bpftool', ['-j', 'link', 'show'], { encoding: 'utf8' })) as {
          prog_id: number;
        }[]
      ).filter((l) => mine.includes(l.prog_id));
    console.log(
      `  before kill -9: programs ${mine.join(',')}, ${perfFds(pid)} perf event fds, ${linked().length} links`,
    );
    r.child.kill('SIGKILL');
    await r.exited;
    await until('the program to be freed', () => !onSampleIds().some((id) => mine.includes(id)), 20_000);
    assert.deepEqual(linked(), []);
  } finally {
    r.child.kill('SIGKILL');
  }
});

test('hotspot profile: pprof that the decoder reads, a file it refuses to overwrite, a pid that does not exist', {
  skip,
  timeout: 90_000,
}, async () => {
  assert.ok(existsSync(CLI) && existsSync(HELPER), 'run npm run build first');
  const { twohot } = twohotBinaries();
  const w = startAs(twohot, ['1']);
  started.push(w);
  const dir = mkdtempSync(path.join(tmpdir(), 'hotspot-profile-'));
  try {
    const out = path.join(dir, 'p.pb');
    const run = spawnSync(
      process.execPath,
      [CLI, 'profile', '--pid', String(w.pid), '--duration', '2s', '--format', 'pprof', '--output', out],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(run.status, 0, run.stderr);
    const prof = Profile.decode(readFileSync(out));
    const names = new Set(prof.function.map((f) => prof.stringTable.strings[Number(f.name)]));
    assert.ok(names.has('hot_a'), [...names].join(', '));
    assert.ok(prof.sample.length > 0);
    const again = spawnSync(
      process.execPath,
      [CLI, 'profile', '--pid', String(w.pid), '--format', 'pprof', '--output', out],
      { encoding: 'utf8', timeout: 20_000 },
    );
    assert.equal(again.status, 2);
    assert.match(again.stderr, /p\.pb exists\n {2}Choose another --output, or add --force/);
    writeFileSync(path.join(dir, 'x'), '');
    const gone = spawnSync(process.execPath, [CLI, 'profile', '--pid', '4194000'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(gone.status, 1);
    assert.match(gone.stderr, /no process 4194000/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
