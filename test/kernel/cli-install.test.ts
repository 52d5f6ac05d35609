// `sudo node <extension>/dist/cli.js install-helper` (issue 11, finding 11): the CLI is reachable from the installed
// extension without npx, and installs the helper by the same verified path as Install Helper.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { MANIFEST_SOURCE, readManifest } from '../../src/host/install';

const ROOT = path.resolve(__dirname, '../..');
const BASE = '/usr/local/lib/hotspot-sec-cli-test';
const skip =
  process.getuid?.() !== 0
    ? 'needs root'
    : !existsSync(path.join(ROOT, 'dist/cli.js')) || !existsSync(path.join(ROOT, MANIFEST_SOURCE))
      ? 'not built'
      : false;

/** An extension as installed for a user: the bundles, the manifest and what it lists. */
function extensionCopy(): string {
  const ext = mkdtempSync(path.join(tmpdir(), 'hotspot-ext-'));
  const listed = [...readManifest(ROOT).files.keys()].map((f) => (f === 'helper.js' ? 'dist/helper.js' : f));
  for (const f of ['dist/cli.js', MANIFEST_SOURCE, ...listed]) {
    mkdirSync(path.dirname(path.join(ext, f)), { recursive: true });
    copyFileSync(path.join(ROOT, f), path.join(ext, f));
  }
  return ext;
}

const installHelperCli = (ext: string) =>
  spawnSync(
    '/usr/bin/node',
    [
      path.join(ext, 'dist/cli.js'),
      'install-helper',
      '--install-dir',
      `${BASE}/hotspot`,
      '--policy-dir',
      `${BASE}/actions`,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );

test('install-helper from an installed extension copy: verified install, summary hash printed; a tampered copy is refused', {
  skip,
  timeout: 120_000,
}, () => {
  const ext = extensionCopy();
  try {
    const ok = installHelperCli(ext);
    assert.equal(ok.status, 0, ok.stderr);
    const summary = readManifest(ROOT).summary;
    assert.match(
      ok.stdout,
      new RegExp(
        `helper installed in ${BASE}/hotspot .*\\n  \\d+ files verified against the packaging manifest, sha256 ${summary}`,
      ),
    );
    assert.ok(existsSync(`${BASE}/hotspot/hotspot-helper`));
    assert.ok(existsSync(`${BASE}/actions/dev.hotspot.helper.policy`));

    rmSync(BASE, { recursive: true, force: true });
    appendFileSync(path.join(ext, 'bpf/sched.bpf.o'), 'x');
    const bad = installHelperCli(ext);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /bpf\/sched\.bpf\.o does not match the manifest built at packaging/);
    assert.equal(existsSync(`${BASE}/hotspot`), false, 'nothing installed');
  } finally {
    rmSync(ext, { recursive: true, force: true });
    rmSync(BASE, { recursive: true, force: true });
  }
});
