// Config reads with limits (issue 11, finding 9): a FIFO, a device, a huge file or an alias bomb named as the config
// must each be a ConfigError, promptly, without blocking the event loop (in VS Code the extension host's).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { loadConfigFile } from '../../src/host/configFile';
import {
  ConfigError,
  generateConfigYaml,
  MAX_CONFIG_BYTES,
  parseConfig,
} from '../../src/shared/diagnosis/config';

const ROOT = path.resolve(__dirname, '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'hotspot-cfgfile-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const fifo = path.join(dir, 'fifo.yaml');
execFileSync('mkfifo', [fifo]);
const big = path.join(dir, 'big.yaml');
writeFileSync(big, `# ${'x'.repeat(MAX_CONFIG_BYTES)}\noom:\n  rss_mb: 1\n`);
// Nine levels of ten aliases each: 10^9 nodes if expanded.
const bombText = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]']
  .concat(
    Array.from({ length: 8 }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(', ')}]`),
  )
  .join('\n');
const bomb = path.join(dir, 'bomb.yaml');
writeFileSync(bomb, `${bombText}\n`);

async function rejection(p: Promise<unknown>): Promise<ConfigError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ConfigError, `a ConfigError, not ${(e as Error)?.stack ?? e}`);
    return e;
  }
  assert.fail('accepted');
}

describe('loadConfigFile', () => {
  test('a regular file is read and parsed', async () => {
    const ok = path.join(dir, 'ok.yaml');
    writeFileSync(ok, 'oom:\n  rss_mb: 123\n');
    assert.equal((await loadConfigFile(ok)).oom.rss_mb, 123);
    const full = path.join(dir, 'full.yaml');
    writeFileSync(full, generateConfigYaml());
    assert.equal((await loadConfigFile(full)).oom.rss_mb, 500);
  });

  test('a FIFO is refused at once (opening it does not wait for a writer)', async () => {
    const t = Date.now();
    const e = await rejection(loadConfigFile(fifo));
    assert.ok(Date.now() - t < 2000, `took ${Date.now() - t} ms`);
    assert.match(e.message, /fifo\.yaml: not a regular file \(a FIFO, socket or device\)/);
  });

  test('/dev/zero, a directory and a missing file are refused by name', async () => {
    assert.match((await rejection(loadConfigFile('/dev/zero'))).message, /^\/dev\/zero: not a regular file/);
    assert.match((await rejection(loadConfigFile(dir))).message, /not a regular file \(a directory\)/);
    assert.match(
      (await rejection(loadConfigFile(path.join(dir, 'none.yaml')))).message,
      /none\.yaml: cannot read the file \(ENOENT\)/,
    );
  });

  test('a file over 1 MiB is refused before it is read', async () => {
    assert.match(
      (await rejection(loadConfigFile(big))).message,
      /big\.yaml: the file is 1 MiB; a config file may be at most 1 MiB/,
    );
  });

  test('an alias bomb is a ConfigError, not a ReferenceError', async () => {
    const e = await rejection(loadConfigFile(bomb));
    assert.match(e.message, /bomb\.yaml: YAML: .*alias/i);
    assert.throws(() => parseConfig(bombText, 'b.yaml'), ConfigError);
    assert.throws(() => parseConfig('a: *nowhere\n', 'b.yaml'), ConfigError, 'an unknown alias too');
  });
});

describe('hotspot --config', () => {
  for (const [what, file, expect] of [
    ['a FIFO', fifo, /not a regular file/],
    ['/dev/zero', '/dev/zero', /not a regular file/],
    ['a file over 1 MiB', big, /at most 1 MiB/],
    ['an alias bomb', bomb, /YAML: .*alias/i],
  ] as const)
    test(`${what}: exit 2 with a config error, promptly`, () => {
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', '--config', file, '--replay', 'test/fixtures/cpu.jsonl'],
        { cwd: ROOT, encoding: 'utf8', timeout: 30_000 },
      );
      assert.equal(r.error, undefined, `${r.error} (hung?)`);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, expect);
    });
});
