import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../src/cli/args';
import { parseProfileArgs } from '../../src/cli/profileArgs';

test('hotspot profile flags: defaults, durations, bounds, formats', () => {
  assert.deepEqual(parseProfileArgs(['--pid', '42']), {
    pid: 42,
    durationMs: 10_000,
    frequency: 99,
    format: 'top',
    output: undefined,
    force: false,
    top: 25,
    help: false,
  });
  const o = parseProfileArgs([
    '--pid=42',
    '--duration',
    '2500ms',
    '--frequency',
    '999',
    '--format',
    'folded',
    '--output',
    'x',
    '--force',
  ]);
  assert.equal(o.durationMs, 2500);
  assert.equal(o.frequency, 999);
  assert.equal(o.format, 'folded');
  assert.equal(o.force, true);
  for (const [argv, m] of [
    [[], /needs --pid/],
    [['--pid', '0'], /--pid: expected an integer/],
    [['--pid', '1', '--duration', '61s'], /between 1s and 60s/],
    [['--pid', '1', '--duration', 'soon'], /not a duration/],
    [['--pid', '1', '--frequency', '1000'], /1\.\.999/],
    [['--pid', '1', '--format', 'svg'], /expected one of top, folded, pprof, cpuprofile, speedscope/],
    [['--pid', '1', '--format', 'pprof'], /binary: give --output FILE/],
    [['--pid', '1', '--bogus'], /unknown flag/],
  ] as [string[], RegExp][])
    assert.throws(
      () => parseProfileArgs(argv),
      (e: unknown) => e instanceof UsageError && m.test(e.message),
      argv.join(' '),
    );
});
