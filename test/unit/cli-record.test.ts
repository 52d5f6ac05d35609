// --record creates a new private file and never follows a symlink or truncates (issue 11, finding 10): as root, a
// link planted in a shared directory would otherwise overwrite whatever it points at.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(__dirname, '..', '..');
const FIXTURE = path.join(ROOT, 'test/fixtures/cpu.jsonl');
const record = (target: string) =>
  spawnSync(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', '--replay', FIXTURE, '--json', '--record', target],
    { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
  );

test('--record: a new file, mode 0600, with the replayed stream', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hotspot-rec-'));
  try {
    const out = path.join(dir, 'new.jsonl');
    const r = record(out);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    assert.equal(
      readFileSync(out, 'utf8').trim().split('\n').length,
      readFileSync(FIXTURE, 'utf8').trim().split('\n').length,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--record refuses a symlink (even to a missing file) and an existing file, and changes neither', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hotspot-rec-'));
  try {
    const victim = path.join(dir, 'victim');
    writeFileSync(victim, 'precious\n', { mode: 0o600 });
    const link = path.join(dir, 'link.jsonl');
    symlinkSync(victim, link);
    const dangling = path.join(dir, 'dangling.jsonl');
    symlinkSync(path.join(dir, 'would-be-created'), dangling);
    for (const target of [link, dangling, victim]) {
      const r = record(target);
      assert.equal(r.status, 2, `refused ${target}: ${r.stderr}`);
      assert.match(r.stderr, /--record: .* already exists \(or is a symlink\)/);
    }
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n', 'the link target is untouched');
    assert.throws(
      () => statSync(path.join(dir, 'would-be-created')),
      /ENOENT/,
      'nothing created through a link',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
