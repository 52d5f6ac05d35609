// Terminate, Kill and Renice reach the process that was shown or nothing (issue 21, finding 4). In a pid namespace
// of its own, a shown `sleep` exits and a new `sleep` is handed the same pid (ns_last_pid): the name check the
// actions made before (comm, across a modal dialog) passes for it; the start-time check does not.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { startMatches } from '../../src/host/processIdentity';

const ROOT = path.resolve(__dirname, '../..');

test('a recycled pid: the actions on the shown process leave the new one alone, at its nice value', {
  skip: process.getuid?.() !== 0 ? 'needs root (a pid namespace)' : false,
  timeout: 60_000,
}, () => {
  const r = spawnSync(
    'unshare',
    [
      '-fp',
      '--mount-proc',
      process.execPath,
      '--import',
      'tsx',
      path.join(__dirname, 'fixtures/pidReuse.ts'),
    ],
    { cwd: ROOT, encoding: 'utf8', timeout: 45_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.reused, true, `the new process got the shown pid: ${r.stdout}`);
  assert.equal(out.commSame, true, 'same name: a name check cannot tell them apart');
  assert.equal(out.signal, 'gone');
  assert.equal(out.renice, 'gone');
  assert.equal(out.newAlive, true, 'the new process was not signalled');
  assert.equal(out.newNice, 0, 'nor reniced');
  assert.equal(out.reniceItself, 'set');
  assert.equal(out.newNiceAfter, 5);
  assert.equal(out.signalItself, 'sent');
  assert.equal(out.itselfSignal, 'SIGTERM');
});

test('start times on the two clocks: /proc ticks exactly, monotonic ns up to the time suspended before', () => {
  const tick = 1e7;
  // The /proc collector: ticks × 10 ms.
  assert.ok(startMatches(1234 * tick, 1234, 0));
  assert.ok(!startMatches(1235 * tick, 1234, 0));
  assert.ok(!startMatches(1232 * tick, 1234, 0));
  // The BPF collector: monotonic; boot time is ahead by what was suspended before the start (here 60 s of 90 s).
  const mono = 5_000_000_000_123;
  const boot = mono + 60e9;
  assert.ok(startMatches(mono, Math.floor(boot / tick), 90e9));
  assert.ok(
    !startMatches(mono, Math.floor(boot / tick), 30e9),
    'ahead by less than the suspend: not the same',
  );
  assert.ok(!startMatches(mono + 2 * tick, Math.floor(mono / tick), 0), 'a later start is another process');
});
