// The CLI as a well-behaved Unix filter, and the crash message quoting the helper's own words (issue 11, #13).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { lastWords } from '../../src/host/supervisor';

const ROOT = path.resolve(__dirname, '..', '..');

test('`hotspot --replay … --json | head -1` ends quietly with status 0, no EPIPE crash', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hotspot-pipe-'));
  try {
    // Far more output than a pipe buffer holds, so the CLI is still writing when head exits.
    const [hello, ...rest] = readFileSync(path.join(ROOT, 'test/fixtures/contention.jsonl'), 'utf8')
      .trim()
      .split('\n');
    const windows = rest.filter((l) => l.includes('"type":"window"'));
    const lines = [hello];
    for (let i = 0; i < 400; i++)
      for (const w of windows) lines.push(w.replace(/"seq":\d+/, `"seq":${lines.length}`));
    const file = path.join(dir, 'long.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const cli = `${JSON.stringify(process.execPath)} --import tsx src/cli/main.ts --replay ${file} --json`;
    const r = spawnSync('bash', ['-c', `set -o pipefail; ${cli} | head -c 100 >/dev/null`], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.doesNotMatch(r.stderr, /EPIPE|Unhandled|Error/, r.stderr);
    assert.equal(r.status, 0, `the pipeline failed: ${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the crash message quotes the helper's own last error line, never unrelated stderr", () => {
  assert.equal(
    lastWords(['hotspot-helper: faults via tp_btf', 'hotspot-helper: MAP_READ: boom', 'libbpf: chatter']),
    'MAP_READ: boom',
  );
  assert.equal(
    lastWords([
      '/usr/local/lib/hotspot/helper.js:12',
      'TypeError: x is not a function',
      '    at step (/usr/local/lib/hotspot/helper.js:12:3)',
      '',
      'Node.js v20.19.0',
    ]),
    'TypeError: x is not a function',
  );
  assert.equal(
    lastWords(['Error executing command as another user: Not authorized', 'Node.js v20']),
    undefined,
  );
  assert.equal(lastWords(['hotspot-helper: a\x1b[2Jb']), 'a[2Jb', 'quoted as plain text');
});
