// `hotspot --json` as the tests run it: 1 s windows for the given pids, a thresholds file written from an object,
// stdout read to its end ('close', not 'exit': the last lines may still be in the pipe when the process exits),
// and a time bound so a stuck CLI cannot hang the run.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';

export const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');

/** The JSON lines (one per window) of `hotspot --json` over `windows` windows on `pids`. */
export async function cliJson(
  pids: number[],
  windows: number,
  config: object,
  timeoutMs = 120_000,
): Promise<string[]> {
  assert.ok(existsSync(CLI), `${CLI} is missing: run "npm run build" first`);
  const dir = mkdtempSync(path.join(tmpdir(), 'hotspot-cfg-'));
  const cfg = path.join(dir, 'thresholds.yaml');
  writeFileSync(cfg, stringify(config));
  const args = [
    '--json',
    '--interval',
    '1s',
    '--windows',
    String(windows),
    '--pid',
    pids.join(','),
    '--config',
    cfg,
  ];
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    out += c;
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    err += c;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const code = await new Promise<number | null>((res) => child.on('close', res));
    assert.equal(code, 0, `hotspot exited ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`);
  } finally {
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true });
  }
  return out.trim().split('\n').filter(Boolean);
}
