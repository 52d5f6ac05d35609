// Per-process columns and the integer map that finds a process's row: checked against a plain Map under churn
// like the helper's (pids come and go, are reused, the table grows).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IntMap, SlotTable } from '../../src/shared/accounting/slots';

test('IntMap agrees with a Map through 200,000 random sets, gets and deletes (clustered keys, growth)', () => {
  const m = new IntMap(4);
  const ref = new Map<number, number>();
  let seed = 42;
  const rand = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  for (let i = 0; i < 200_000; i++) {
    // Keys clustered like pids (a range that moves), so probe chains form and wrap around the table.
    const key = 1000 + ((i >> 4) % 5000) + rand(3000);
    const op = rand(3);
    if (op === 0) {
      m.set(key, i);
      ref.set(key, i);
    } else if (op === 1) {
      m.delete(key);
      ref.delete(key);
    }
    assert.equal(m.get(key), ref.get(key) ?? -1, `key ${key} after op ${i}`);
  }
  assert.equal(m.size, ref.size);
  for (const [k, v] of ref) assert.equal(m.get(k), v);
  for (let k = 0; k < 10_000; k++) if (!ref.has(k)) assert.equal(m.get(k), -1);
});

test('SlotTable reuses freed rows, zeroed, and keeps rows through growth', () => {
  const t = new SlotTable({ a: Float64Array, b: Uint32Array }, { b: 2 }, 2);
  const r1 = t.add(10);
  t.cols.a[r1] = 1.5;
  t.cols.b[r1 * 2 + 1] = 7;
  for (let id = 11; id < 100; id++) t.cols.a[t.add(id)] = id; // grows from 2 rows to 128
  assert.equal(t.cols.a[t.rowOf(10)], 1.5);
  assert.equal(t.cols.b[t.rowOf(10) * 2 + 1], 7);
  assert.equal(t.cols.a[t.rowOf(99)], 99);
  t.remove(10);
  assert.equal(t.rowOf(10), -1);
  const again = t.add(500);
  assert.equal(again, r1, 'the freed row is reused');
  assert.deepEqual([t.cols.a[again], t.cols.b[again * 2], t.cols.b[again * 2 + 1]], [0, 0, 0], 'zeroed');
  assert.equal(t.size, 90);
});
