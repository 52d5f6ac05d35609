import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withHottest } from '../../src/shared/profile/hint';

test('a CPU-bound cause names the hottest function of a profile from the last minute, and only then', () => {
  const recent = { hottest: 'fib (bench.js:12)', share: 63.6, at: 1_000_000 };
  const cause = 'runs whenever it can: 99% of a core';
  assert.equal(
    withHottest(cause, 'CPU-bound', recent, 1_030_000),
    `${cause}; hottest: fib (bench.js:12) 64 %`,
  );
  assert.equal(withHottest(cause, 'CPU-bound', recent, 1_061_000), cause);
  assert.equal(withHottest(cause, 'OK', recent, 1_030_000), cause);
  assert.equal(withHottest(cause, 'CPU-bound', undefined, 1_030_000), cause);
});
