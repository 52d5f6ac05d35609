// The wire protocol: real recorded lines round-trip; random and mutated lines are rejected with a ProtocolError
// (never another exception); oversize lines are bounded.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { encode, LineSplitter, ProtocolError, parseLine } from '../../src/shared/protocol';

const FIXTURES = path.join(__dirname, '..', 'fixtures');
const lines = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.jsonl'))
  .flatMap((f) => readFileSync(path.join(FIXTURES, f), 'utf8').split('\n').filter(Boolean));

describe('protocol', () => {
  test('every recorded line parses and re-encodes to the same message', () => {
    assert.ok(lines.length > 20);
    for (const l of lines) {
      const m = parseLine(l);
      assert.deepEqual(parseLine(encode(m).trimEnd()), m);
    }
  });
  test('wrong version, unknown type, bad fields are named', () => {
    const w = JSON.parse(lines.find((l) => l.includes('"window"'))!);
    assert.throws(
      () => parseLine(JSON.stringify({ ...w, v: 2 })),
      /message\.v: unsupported protocol version 2/,
    );
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
