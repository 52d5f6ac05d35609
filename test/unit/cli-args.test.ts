import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArgs, parseDuration, UsageError } from '../../src/cli/args';

test('defaults follow the reference tool (5 s, top 5, kernel threads hidden)', () => {
  const o = parseArgs([]);
  assert.equal(o.intervalMs, 5000);
  assert.equal(o.topK, 5);
  assert.equal(o.hideKernel, true);
  assert.equal(o.json, false);
});

test('flags in --flag value, --flag=value and the reference -flag spellings', () => {
  const o = parseArgs([
    '-interval',
    '2s',
    '--topk=3',
    '--hide-kernel=false',
    '--pid',
    '10,20',
    '--json',
    '--windows',
    '4',
  ]);
  assert.deepEqual(
    [o.intervalMs, o.topK, o.hideKernel, o.pids, o.json, o.windows],
    [2000, 3, false, [10, 20], true, 4],
  );
  assert.deepEqual(parseArgs(['--exclude', 'a,b', '--exclude=123']).exclude, ['a', 'b', '123']);
});

test('durations', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('1m'), 60000);
  assert.equal(parseDuration('3'), 3000);
  for (const bad of ['', 'fast', '10h', '5 s s', '50ms', '11m'])
    assert.throws(() => parseDuration(bad), UsageError, bad);
});

test('bad input gets a clear error naming the flag', () => {
  assert.throws(() => parseArgs(['--bogus']), /unknown flag "--bogus"/);
  assert.throws(() => parseArgs(['--topk', '0']), /--topk: expected a positive integer/);
  assert.throws(() => parseArgs(['--pid', '12,abc']), /--pid: expected a positive integer, got "abc"/);
  assert.throws(() => parseArgs(['--config']), /--config: missing value/);
  assert.throws(() => parseArgs(['--json=1']), /--json takes no value/);
});

test('--hide-kernel takes its boolean as the next word too (--hide-kernel false), else stands alone', () => {
  assert.equal(parseArgs(['--hide-kernel', 'false']).hideKernel, false);
  assert.equal(parseArgs(['-hide-kernel', '0']).hideKernel, false);
  assert.equal(parseArgs(['--hide-kernel', 'true']).hideKernel, true);
  const o = parseArgs(['--hide-kernel', '--json']);
  assert.deepEqual([o.hideKernel, o.json], [true, true], 'a following flag is not its value');
  assert.throws(() => parseArgs(['--hide-kernel', 'nope']), UsageError, 'an unknown word is still an error');
});

test('install-helper is a subcommand with its own two flags', () => {
  assert.equal(parseArgs(['install-helper']).command, 'install-helper');
  const o = parseArgs(['install-helper', '--install-dir', '/opt/h', '--policy-dir=/opt/p']);
  assert.deepEqual([o.command, o.installDir, o.policyDir], ['install-helper', '/opt/h', '/opt/p']);
  assert.throws(() => parseArgs(['--install-dir', '/x']), /belongs to install-helper/);
  assert.throws(() => parseArgs(['install-helper', 'now']), UsageError);
  assert.equal(parseArgs(['--json']).command, undefined);
});
