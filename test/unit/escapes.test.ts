// Terminal and UI escapes at rendering (issue 11, finding 5): process names such as "\e]0;pwned\a" or "\e[2J" must
// not reach a TTY through the CLI table, its "preempted by" lines or a replayed file, nor a clipboard report, and
// "$(" in a name must not render a codicon in the status bar.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { plainLines, statusBarText } from '../../src/extension/safeText';

const ROOT = path.resolve(__dirname, '..', '..');
const HOSTILE = ['\x1b]0;pwned\x07', '\x1b[2J', '\u202eexe.txt', 'a\x9bb', '$(warning)x'];
// ESC, BEL, CSI (C1), other C0/C1 controls, DEL and bidi overrides: none may be printed.
// biome-ignore lint/suspicious/noControlCharactersInRegex: detecting them is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

test('a replayed session with hostile process names prints no control characters (table, preempted by, stderr)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hotspot-esc-'));
  try {
    // A real recording (two bash loops preempting each other), with every name replaced by a hostile one.
    const lines = readFileSync(path.join(ROOT, 'test/fixtures/contention.jsonl'), 'utf8').trim().split('\n');
    const msgs = lines.map((l) => JSON.parse(l));
    let i = 0;
    for (const m of msgs) {
      if (m.type === 'hello') m.kernel = `6.1\x1b]0;kernel-title\x07`;
      for (const p of m.procs ?? []) p.comm = HOSTILE[i++ % HOSTILE.length];
    }
    msgs.push({
      type: 'error',
      v: 2,
      code: 'MAP_READ',
      message: 'boom\x1b[2J',
      hint: 'h\x1b]8;;x\x07',
      fatal: false,
    });
    const file = path.join(dir, 'hostile.jsonl');
    writeFileSync(file, `${msgs.map((m) => JSON.stringify(m)).join('\n')}\n`);
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), '--replay', file, '--topk', '50'],
      { encoding: 'utf8', cwd: ROOT, timeout: 60_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /preempted by /, 'the "preempted by" lines are rendered');
    assert.match(r.stdout, /\]0;pwned/, 'the names are shown, minus their control characters');
    assert.doesNotMatch(r.stdout, CONTROL, 'stdout carries a control character');
    assert.match(r.stderr, /boom\[2J/);
    assert.doesNotMatch(r.stderr, CONTROL, 'stderr carries a control character');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('status-bar text: "$(" is escaped and control characters removed', () => {
  assert.equal(statusBarText('$(warning) x\x1b[2J'), '\\$(warning) x[2J');
  assert.equal(statusBarText('a$b(c'), 'a$b(c', 'a lone $ or ( is left alone');
});

test('Copy Report text keeps its lines but no control or bidi characters', () => {
  const out = plainLines('bash\x1b]0;t\x07 (12)\r\nCPU-bound\u202e\nend');
  assert.equal(out, 'bash]0;t (12)\nCPU-bound\nend');
  assert.doesNotMatch(out, CONTROL);
});
