// The wire protocol: real recorded lines round-trip; random and mutated lines are rejected with a ProtocolError
// (never another exception); oversize lines are bounded.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { CgroupResolver, CgroupTable } from '../../src/host/cgroups';
import { buildWindowLine } from '../../src/host/windowBuilder';
import type { TaskDelta } from '../../src/shared/accounting/taskTotals';
import {
  encode,
  type Hello,
  LineSplitter,
  PROTOCOL_VERSION,
  ProtocolError,
  parseLine,
  type Window,
} from '../../src/shared/wire/protocol';

// Recorded sessions (protocol v2 and v3 are both readable), plus lines made by the same builder the helper uses;
// older versions must be refused with a clear message (see below).
const FIXTURES = path.join(__dirname, '..', 'fixtures');
const recorded = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.jsonl'))
  .flatMap((f) => readFileSync(path.join(FIXTURES, f), 'utf8').split('\n').filter(Boolean));
const hello: Hello = {
  type: 'hello',
  v: PROTOCOL_VERSION,
  version: '0.1.0',
  kernel: '6.18',
  pid: 10,
  ncpu: 2,
  pageSize: 4096,
  memTotalBytes: 2 ** 34,
  intervalMs: 1000,
  attach: { switch: 'tp_btf', tasks: 'iter', exit: 'tp_btf' },
  cgroupMode: 'hybrid',
  capabilities: ['preempt_pairs', 'exits'],
};
function builtWindow(seq: number): string {
  const deltas: TaskDelta[] = [1, 2, 3].map((tgid) => ({
    tgid,
    startNs: tgid * 1000,
    ppid: 1,
    comm: `w${tgid}`,
    kthread: tgid === 3,
    threads: tgid,
    cpuNs: tgid * 1e6,
    runqWaitNs: 5,
    minFaults: 7,
    majFaults: 1,
    vcsw: 2,
    ivcsw: 3,
    blockedNs: tgid * 2e6,
    ioWaitNs: tgid * 1e6,
    readBytes: 4096,
    writeBytes: tgid * 65536,
    rssAnonBytes: 4096,
    rssFileBytes: 8192,
    rssShmemBytes: 0,
    lastCpu: 1,
    cgroupKey: 0,
    exited: tgid === 2,
    anonSamples: [0, 4096],
  }));
  return buildWindowLine(
    {
      type: 'window',
      v: PROTOCOL_VERSION,
      seq,
      ts: 1,
      durationNs: 1e9,
      cpuBusyNs: [5e8, null],
      pairs: [{ victim: 1, aggressor: 2, count: 4 }],
      memAvailableBytes: 2 ** 30,
      self: { cpuNs: 1, rssBytes: 2, collectNs: 3 },
      pressure: { cpu: 1, memory: 2, io: 3 },
    },
    deltas,
    {
      resolver: new CgroupResolver((pid) => `0::/s/${pid}\n`),
      table: new CgroupTable({ mounts: { mode: 'none' } }),
    },
  )
    .bytes.toString()
    .trimEnd();
}
// Recordings of protocol v2 (Hotspot 0.2) still replay: v3 only added Window.quiet.
const current = recorded.filter((l) => /"v":[23],/.test(l));
const lines = [...current, JSON.stringify(hello), builtWindow(0), builtWindow(1)];

describe('protocol', () => {
  test('every recorded and built line parses and re-encodes to the same message', () => {
    assert.ok(lines.length >= 3);
    for (const l of lines) {
      const m = parseLine(l);
      assert.deepEqual(parseLine(encode(m).trimEnd()), m);
    }
  });
  test('wrong version, unknown type, bad fields are named', () => {
    const w = JSON.parse(lines.find((l) => l.includes('"window"'))!);
    assert.throws(
      () => parseLine(JSON.stringify({ ...w, v: 1 })),
      /message\.v: unsupported protocol version 1 \(this version reads 2, 3 and 4\).*reinstall the helper/,
    );
    assert.equal(current.length, recorded.length, 'every recording in test/fixtures is readable');
    const badCg = structuredClone(w);
    badCg.procs[0].cg = badCg.cgroups.length;
    assert.throws(() => parseLine(JSON.stringify(badCg)), /window\.procs\[0\]\.cg: expected an index/);
    assert.throws(
      () => parseLine(JSON.stringify({ ...hello, attach: { ...hello.attach, tasks: 'kprobe' } })),
      /hello\.attach\.tasks: expected one of walk, iter, procfs/,
    );
    assert.throws(() => parseLine(JSON.stringify({ ...w, omitted: -1 })), /window\.omitted/);
    assert.throws(() => parseLine(JSON.stringify({ ...w, type: 'x' })), /unknown message type "x"/);
    const bad = structuredClone(w);
    bad.procs[0].cpuNs = -1;
    assert.throws(() => parseLine(JSON.stringify(bad)), /window\.procs\[0\]\.cpuNs/);
    assert.throws(() => parseLine('{"type":'), /not JSON/);
    assert.throws(
      () => parseLine(JSON.stringify({ ...w, pressure: { cpu: 150, memory: 0, io: 0 } })),
      /window\.pressure\.cpu: expected a percentage/,
    );
    assert.equal(parseLine(JSON.stringify({ ...w, pressure: undefined })).type, 'window', 'PSI is optional');
  });
  test('v4 blocked time and I/O volume: required and checked; 0 in v3 and v2 recordings', () => {
    const w = JSON.parse(builtWindow(1).trim());
    const p = (parseLine(JSON.stringify(w)) as Window).procs.find((x) => x.tgid === 3);
    assert.deepEqual([p?.blockedNs, p?.ioWaitNs, p?.readBytes, p?.writeBytes], [6e6, 3e6, 4096, 3 * 65536]);
    for (const k of ['blockedNs', 'ioWaitNs', 'readBytes', 'writeBytes']) {
      const bad = structuredClone(w);
      delete bad.procs[0][k];
      assert.throws(() => parseLine(JSON.stringify(bad)), new RegExp(`window\\.procs\\[0\\]\\.${k}`));
      bad.procs[0][k] = -1;
      assert.throws(() => parseLine(JSON.stringify(bad)), new RegExp(`window\\.procs\\[0\\]\\.${k}`));
    }
    const more = structuredClone(w);
    more.procs[0].ioWaitNs = more.procs[0].blockedNs + 1;
    assert.throws(() => parseLine(JSON.stringify(more)), /ioWaitNs: expected at most blockedNs/);
    const old = structuredClone(w);
    old.v = 3;
    for (const k of ['blockedNs', 'ioWaitNs', 'readBytes', 'writeBytes']) delete old.procs[0][k];
    const q = (parseLine(JSON.stringify(old)) as Window).procs[0];
    assert.deepEqual([q.blockedNs, q.ioWaitNs, q.readBytes, q.writeBytes], [0, 0, 0, 0]);
  });

  test('10000 mutated and random lines: only ProtocolError', () => {
    let seed = 3;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const junk = '{}[]",:0123456789-.eEnulltruefalse \\';
    let accepted = 0;
    for (let i = 0; i < 10_000; i++) {
      const src = lines[rnd(lines.length)];
      let s: string;
      if (i % 4 === 0) s = Array.from({ length: rnd(200) }, () => junk[rnd(junk.length)]).join('');
      else {
        const c = [...src];
        for (let k = 1 + rnd(3); k > 0; k--) c[rnd(c.length)] = junk[rnd(junk.length)];
        s = c.join('');
      }
      try {
        parseLine(s);
        accepted++;
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw new Error(`${e} for ${s.slice(0, 200)}`);
      }
    }
    assert.ok(accepted < 10_000);
  });
  test('the line splitter never buffers more than its limit and resumes after an oversize line', () => {
    const got: string[] = [];
    const errors: string[] = [];
    const sp = new LineSplitter(
      (l) => got.push(l),
      (e) => errors.push(e.message),
      100,
    );
    sp.push('short\n');
    for (let i = 0; i < 50; i++) sp.push('x'.repeat(64)); // 3200 bytes without a newline
    sp.push('tail of the long line\nnext\n');
    assert.deepEqual(got, ['short', 'next']);
    assert.equal(errors.length, 1);
  });
});
