// Failure messages of the real helper under hostile or broken conditions (issue 11).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(__dirname, '..', '..');
const HELPER = path.join(ROOT, 'dist', 'helper.js');
const skip =
  process.getuid?.() !== 0 ? 'needs root' : !existsSync(HELPER) ? 'dist/helper.js is not built' : false;

test('garbage kernel BTF is reported as a BTF problem, not as "No such process"', {
  skip,
  timeout: 60_000,
}, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hotspot-btf-'));
  try {
    const garbage = path.join(dir, 'vmlinux');
    writeFileSync(garbage, randomBytes(8192));
    // A private mount namespace: only this helper sees the garbage over /sys/kernel/btf/vmlinux.
    const r = spawnSync(
      'unshare',
      [
        '-m',
        'sh',
        '-c',
        'mount --bind "$1" /sys/kernel/btf/vmlinux && exec "$2" "$3" --interval-ms 500',
        'sh',
        garbage,
        process.execPath,
        HELPER,
      ],
      { encoding: 'utf8', timeout: 50_000, input: '' },
    );
    const error = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
      .find((m) => m.type === 'error');
    assert.ok(error, `an error message; stderr: ${r.stderr.slice(-2000)}`);
    assert.equal(error.fatal, true);
    assert.match(error.message, /BTF \(\/sys\/kernel\/btf\/vmlinux\) is unreadable or corrupt/);
    assert.doesNotMatch(error.message, /No such process/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
