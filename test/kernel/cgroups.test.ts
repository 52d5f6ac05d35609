// The cgroup table on the real kernel: a process moved (after the helper started) into a cgroup with a memory
// limit and a CPU quota is shown there the next window, with the limit, the quota and its throttling.
// Uses the v1 memory and cpu controllers on hybrid/v1 hosts, or the v2 tree (memory.max, cpu.max) on v2 hosts.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { detectMounts } from '../../src/host/cgroups';
import type { Hello, Window } from '../../src/shared/wire/protocol';
import { runHelper, stopHelper } from '../support/helper';
import { command } from '../workloads';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a process moved into a limited cgroup is seen there next window with limit, quota and throttling', {
  timeout: 60_000,
}, async (t) => {
  const m = detectMounts();
  const v1 = m.mode === 'hybrid' || m.mode === 'v1';
  const memRoot = v1 ? m.memory : m.v2;
  const cpuRoot = v1 ? m.cpu : m.v2;
  if (!memRoot || !cpuRoot) return t.skip('no memory and cpu cgroup controllers');
  const name = `/hotspot-test-${process.pid}`;
  const memDir = `${memRoot}${name}`;
  const cpuDir = `${cpuRoot}${name}`;
  const burner = command('sh', ['-c', 'while :; do :; done']);
  const pid = burner.pid!;
  const r = runHelper(['--interval-ms', '500']);
  try {
    const hello = (await r.next((msg) => msg.type === 'hello')) as Hello;
    assert.equal(hello.cgroupMode, m.mode);
    mkdirSync(memDir, { recursive: true });
    if (memDir !== cpuDir) mkdirSync(cpuDir, { recursive: true });
    if (v1) {
      writeFileSync(`${memDir}/memory.limit_in_bytes`, String(512 * 2 ** 20));
      writeFileSync(`${cpuDir}/cpu.cfs_period_us`, '100000');
      writeFileSync(`${cpuDir}/cpu.cfs_quota_us`, '50000');
    } else {
      writeFileSync(`${memDir}/memory.max`, String(512 * 2 ** 20));
      writeFileSync(`${cpuDir}/cpu.max`, '50000 100000');
    }
    await sleep(600); // the helper has run a window with the process still where it was
    writeFileSync(`${memDir}/cgroup.procs`, String(pid));
    if (memDir !== cpuDir) writeFileSync(`${cpuDir}/cgroup.procs`, String(pid));
    const seenAt = r.messages.length;
    let cg: Window['cgroups'][number] | undefined;
    let windowsAfterMove = 0;
    for (let i = 0; i < 12; i++) {
      const w = (await r.next(
        (msg) => msg.type === 'window' && r.messages.indexOf(msg) >= seenAt + i,
      )) as Window;
      windowsAfterMove++;
      const p = w.procs.find((x) => x.tgid === pid);
      const c = p && w.cgroups[p.cg];
      if (c?.memLimitBytes === 512 * 2 ** 20 && c.cpuQuotaPercent === 50 && c.throttledNs > 0) {
        cg = c;
        break;
      }
    }
    assert.ok(cg, 'the burner was shown in its new cgroup, limited, quota-bound and throttled');
    assert.ok(windowsAfterMove <= 4, `seen within a few windows of the move (${windowsAfterMove})`);
    assert.equal(cg.memLimitPath, name);
    assert.equal(cg.cpuQuotaPath, name);
    // v1 does not move a process's existing charges with it, so a busy loop's new cgroup may show 0 bytes.
    assert.ok(cg.memUsageBytes !== null, 'usage of the limiting cgroup is read');
    assert.ok(cg.nrThrottled > 0 && cg.nrPeriods >= cg.nrThrottled);
  } finally {
    burner.kill('SIGKILL');
    await new Promise((res) => burner.on('exit', res));
    await stopHelper(r);
    for (const dir of new Set([memDir, cpuDir]))
      for (let i = 0; i < 20 && existsSync(dir); i++) {
        try {
          rmdirSync(dir);
        } catch {
          await sleep(100); // the killed process leaves the cgroup asynchronously
        }
      }
  }
});
