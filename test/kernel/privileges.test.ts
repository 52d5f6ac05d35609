// After attaching, the root helper keeps only the capabilities reading its maps needs and sets no_new_privs
// (issue 11, finding 12) — and still delivers windows with real data, so none of the dropped ones was needed.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { HELPER_GID, HELPER_UID, neededCapabilities } from '../../src/helper/privileges';
import type { Window } from '../../src/shared/wire/protocol';
import { runHelper, stopHelper } from '../support/helper';

const ROOT = path.resolve(__dirname, '../..');
const skip = process.getuid?.() !== 0 ? 'needs root' : false;

function statusOf(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'latin1').split('\n')) {
    const m = /^(\w+):\s*(.*)$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}
const mask = (caps: number[]) => caps.reduce((m, c) => m | (1n << BigInt(c)), 0n);

test('the helper drops to CAP_BPF + CAP_PERFMON (+ CAP_SYS_RESOURCE when it had it), sets no_new_privs, and keeps delivering windows', {
  skip,
  timeout: 60_000,
}, async () => {
  const mine = BigInt(`0x${statusOf(process.pid).CapPrm}`); // what the helper starts with (it inherits ours)
  assert.ok((mine >> 21n) & 1n, 'the test needs CAP_SYS_ADMIN to start from');
  const r = runHelper(['--interval-ms', '400']);
  try {
    const hello = await r.next((m) => m.type === 'hello');
    const pid = (hello as { pid: number }).pid;
    await r.next((m) => m.type === 'window');
    const s = statusOf(pid);
    const expected = mask(neededCapabilities()) & mine;
    assert.equal(BigInt(`0x${s.CapEff}`), expected, `CapEff ${s.CapEff}`);
    assert.equal(BigInt(`0x${s.CapPrm}`), expected, `CapPrm ${s.CapPrm}`);
    assert.equal(BigInt(`0x${s.CapBnd}`), expected, `CapBnd ${s.CapBnd}`);
    assert.equal(BigInt(`0x${s.CapInh}`), 0n);
    assert.equal(s.NoNewPrivs, '1');
    assert.equal(
      (BigInt(`0x${s.CapEff}`) >> 21n) & 1n,
      0n,
      'no CAP_SYS_ADMIN after attach on a kernel with CAP_BPF',
    );
    assert.match(r.stderr(), /privileges after attach: .*CAP_BPF.*no_new_privs on/);

    // Three more windows, read from the maps after the drop, with the processes that ran in them.
    const seen = r.messages.filter((m) => m.type === 'window').length;
    const later = (await r.next(
      (m) => m.type === 'window' && r.messages.filter((x) => x.type === 'window').length >= seen + 3,
      20_000,
    )) as Window;
    assert.ok(later.procs.length > 0, 'the drained maps still have data');
    assert.ok(
      later.procs.some((p) => p.tgid === pid),
      'the helper sees itself',
    );
    assert.ok(!r.messages.some((m) => m.type === 'error'), 'no MAP_READ errors');
  } finally {
    await stopHelper(r);
  }
});

test('the running helper leaves uid 0: every id and every thread is nobody, CapEff exactly the kept set, and a root-owned 0644 file is closed to it', {
  skip,
  timeout: 60_000,
}, async () => {
  const mine = BigInt(`0x${statusOf(process.pid).CapPrm}`);
  const target = mkdtempSync(path.join(tmpdir(), 'hotspot-rootfile-'));
  chmodSync(target, 0o755);
  const file = path.join(target, 'root-owned');
  writeFileSync(file, 'root\n', { mode: 0o644 });
  const r = runHelper(['--interval-ms', '400']);
  try {
    const hello = await r.next((m) => m.type === 'hello');
    const pid = (hello as { pid: number }).pid;
    await r.next((m) => m.type === 'window');
    const s = statusOf(pid);
    // real, effective, saved and filesystem ids: the fsuid is what the kernel checks a file's mode against.
    assert.deepEqual(
      s.Uid.split(/\s+/).map(Number),
      [HELPER_UID, HELPER_UID, HELPER_UID, HELPER_UID],
      `Uid ${s.Uid}`,
    );
    assert.deepEqual(
      s.Gid.split(/\s+/).map(Number),
      [HELPER_GID, HELPER_GID, HELPER_GID, HELPER_GID],
      `Gid ${s.Gid}`,
    );
    assert.equal(s.Groups.trim(), '', 'no supplementary groups');
    assert.equal(BigInt(`0x${s.CapEff}`), mask(neededCapabilities()) & mine, `CapEff ${s.CapEff}`);
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const t = readFileSync(`/proc/${pid}/task/${task}/status`, 'latin1');
      assert.match(
        t,
        new RegExp(`^Uid:\\s+${HELPER_UID}\\s+${HELPER_UID}\\s+${HELPER_UID}\\s+${HELPER_UID}$`, 'm'),
        `thread ${task}`,
      );
    }
    // The file is root's and only its owner may write it; the helper is not its owner and holds nothing that
    // overrides a file's mode (CAP_DAC_OVERRIDE 1, CAP_FOWNER 3).
    const st = statSync(file);
    assert.equal(st.uid, 0);
    assert.equal(st.mode & 0o777, 0o644);
    assert.equal((BigInt(`0x${s.CapEff}`) >> 1n) & 1n, 0n);
    assert.equal((BigInt(`0x${s.CapEff}`) >> 3n) & 1n, 0n);
    // /proc/kallsyms was opened before the drop and is kept for the profiler.
    const fds = readdirSync(`/proc/${pid}/fd`).map((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        return '';
      }
    });
    assert.ok(fds.includes('/proc/kallsyms'), `fds: ${fds.join(' ')}`);
    assert.match(r.stderr(), new RegExp(`privileges after attach: uid ${HELPER_UID} gid ${HELPER_GID}, `));
    const seen = r.messages.filter((m) => m.type === 'window').length;
    await r.next(
      (m) => m.type === 'window' && r.messages.filter((x) => x.type === 'window').length >= seen + 2,
      20_000,
    );
    assert.ok(!r.messages.some((m) => m.type === 'error'), 'no MAP_READ errors as nobody');
  } finally {
    await stopHelper(r);
    rmSync(target, { recursive: true, force: true });
  }
});

test('the same drop in a process of its own: writing a root-owned 0644 file fails, kallsyms still shows addresses through the kept fd', {
  skip,
  timeout: 60_000,
}, () => {
  const target = mkdtempSync(path.join(tmpdir(), 'hotspot-rootfile-'));
  chmodSync(target, 0o755);
  const file = path.join(target, 'root-owned');
  writeFileSync(file, 'root\n', { mode: 0o644 });
  try {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(__dirname, 'fixtures/afterDrop.ts'), file],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as {
      report: { uid: number; warnings: string[] };
      write: string;
      kallsymsKept?: string;
      kallsymsKeptLines: number;
      kallsymsFresh: string;
      status: string;
    };
    assert.deepEqual(out.report.warnings, []);
    assert.equal(out.report.uid, HELPER_UID);
    assert.equal(out.write, 'EACCES', 'root-owned 0644 is not writable after the drop');
    assert.equal(readFileSync(file, 'utf8'), 'root\n');
    assert.match(out.kallsymsKept ?? '', /^[0-9a-f]{16} \w /);
    assert.notEqual(
      /^0+ /.test(out.kallsymsKept ?? ''),
      true,
      `addresses through the kept fd: ${out.kallsymsKept}`,
    );
    assert.ok(out.kallsymsKeptLines > 10_000, 'the whole table reads through the kept fd');
    const paranoid = Number(readFileSync('/proc/sys/kernel/perf_event_paranoid', 'latin1'));
    if (paranoid > 1) assert.match(out.kallsymsFresh, /^0+ /, 'opened after the drop it shows no addresses');
  } finally {
    rmSync(target, { recursive: true, force: true });
  }
});

test('after the drop a task iterator attached before it can still be created and read (no CAP_SYS_ADMIN needed)', {
  skip: skip || (spawnSync('clang', ['--version']).status !== 0 ? 'clang is missing' : false),
  timeout: 60_000,
}, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hotspot-iter-'));
  const pinned = `/sys/fs/bpf/hotspot_sec_iter_${process.pid}`;
  try {
    const obj = path.join(dir, 'iter_task.bpf.o');
    execFileSync('clang', [
      '-O2',
      '-g',
      '-target',
      'bpf',
      '-I',
      path.join(ROOT, 'bpf'),
      '-c',
      path.join(__dirname, 'fixtures/iter_task.bpf.c'),
      '-o',
      obj,
    ]);
    execFileSync('bpftool', ['iter', 'pin', obj, pinned]); // load + attach, with full privileges
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(__dirname, 'fixtures/iterAfterDrop.ts'), pinned],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { iterFd: number; pid: number; pids?: number[]; status: string };
    assert.match(out.status, /^NoNewPrivs:\s*1$/m);
    const capEff = BigInt(`0x${/^CapEff:\s*(\w+)/m.exec(out.status)?.[1]}`);
    assert.equal((capEff >> 21n) & 1n, 0n, 'read without CAP_SYS_ADMIN');
    assert.ok(out.iterFd >= 0, `bpf_iter_create after the drop: ${out.iterFd}`);
    assert.ok(out.pids?.includes(out.pid), 'the iterator walked the tasks (the reader among them)');
    assert.ok((out.pids?.length ?? 0) > 10);
  } finally {
    rmSync(pinned, { force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});
