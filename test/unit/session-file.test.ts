// Recording files, as the CLI (often root) and the extension open them: no symlink is followed, the CLI never
// replaces a file, and a replay reads regular files only — a FIFO must fail at once instead of hanging the reader.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { openRecordingFd, readRecording, readRecordingSync } from '../../src/host/sessionFile';

function withDir(fn: (dir: string) => Promise<void> | void) {
  return async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hotspot-rec-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test(
  'a new recording is private (0600); an existing file is refused unless replacing was asked',
  withDir((dir) => {
    const f = path.join(dir, 'a.jsonl');
    closeSync(openRecordingFd(f, false));
    assert.equal(statSync(f).mode & 0o777, 0o600);
    assert.throws(() => openRecordingFd(f, false), /already exists/);
    writeFileSync(f, 'old');
    closeSync(openRecordingFd(f, true));
    assert.equal(readFileSync(f, 'utf8'), '', 'replacing truncates');
  }),
);

test(
  'a symlink is never followed, even when replacing',
  withDir((dir) => {
    const target = path.join(dir, 'victim');
    writeFileSync(target, 'keep');
    const link = path.join(dir, 'link.jsonl');
    symlinkSync(target, link);
    assert.throws(() => openRecordingFd(link, false), /symlink/);
    assert.throws(() => openRecordingFd(link, true), /symlink/);
    assert.equal(readFileSync(target, 'utf8'), 'keep');
  }),
);

test(
  'replay reads regular files only: a FIFO and a device fail at once',
  withDir(async (dir) => {
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    assert.throws(() => readRecordingSync(fifo), /not a regular file/);
    await assert.rejects(readRecording(fifo), /not a regular file/);
    assert.throws(() => readRecordingSync('/dev/zero'), /not a regular file/);
    const ok = path.join(dir, 'ok.jsonl');
    writeFileSync(ok, '{"type":"hello"}\n');
    assert.equal(readRecordingSync(ok), '{"type":"hello"}\n');
    assert.equal(await readRecording(ok), '{"type":"hello"}\n');
  }),
);
