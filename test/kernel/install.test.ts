// Install Helper's root-side guarantees (issue 11, findings 3, 4, 12), run as root against real directories: it
// refuses unsafe target directories before writing anything, installs exactly the files of the packaging manifest
// (each hash checked), writes the polkit policy last, and removes everything it wrote when a step fails.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { InstallError, installHelper, MANIFEST_SOURCE, readManifest } from '../../src/host/install';
import { POLKIT_ACTION, unsafeForRoot } from '../../src/host/rootPath';

const ROOT = path.resolve(__dirname, '../..');
const BASE = '/usr/local/lib/hotspot-sec-install-test';
const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const skip =
  process.getuid?.() !== 0
    ? 'needs root'
    : !existsSync(path.join(ROOT, MANIFEST_SOURCE))
      ? 'not built (no dist/helper-manifest.sha256)'
      : false;
const NOBODY = 65534;

after(() => {
  spawnSync('umount', [path.join(BASE, 'ro-policy')]);
  rmSync(BASE, { recursive: true, force: true });
});

function fresh(name: string): string {
  const dir = path.join(BASE, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  return dir;
}

/** A copy of the extension as the manifest describes it (what a user's ~/.vscode/extensions/… holds). */
function extensionCopy(): string {
  const ext = mkdtempSync(path.join(tmpdir(), 'hotspot-ext-'));
  const files = [
    MANIFEST_SOURCE,
    ...[...readManifest(ROOT).files.keys()].map((f) => (f === 'helper.js' ? 'dist/helper.js' : f)),
  ];
  for (const f of files) {
    mkdirSync(path.dirname(path.join(ext, f)), { recursive: true });
    copyFileSync(path.join(ROOT, f), path.join(ext, f));
  }
  return ext;
}

async function refusal(p: Promise<unknown>): Promise<InstallError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof InstallError, `an InstallError, not ${(e as Error)?.stack ?? e}`);
    return e;
  }
  assert.fail('installed');
}

test('a user-owned parent of the install dir: refused before anything is written (no tree, no policy)', {
  skip,
}, async () => {
  const base = fresh('userparent');
  const parent = path.join(base, 'lib');
  mkdirSync(parent, { mode: 0o755 });
  chownSync(parent, NOBODY, NOBODY); // as if /usr/local/lib belonged to the user
  const policyDir = path.join(base, 'policy');
  const e = await refusal(
    installHelper({ extensionPath: ROOT, installDir: path.join(parent, 'hotspot'), policyDir, log: quiet }),
  );
  assert.match(e.message, new RegExp(`${parent} is not owned by root.*Nothing was installed`));
  assert.deepEqual(readdirSync(parent), [], 'no tree');
  assert.equal(existsSync(path.join(policyDir, `${POLKIT_ACTION}.policy`)), false, 'no policy');
});

test('a user-owned parent of the policy dir is refused too, and so is an install dir reached through /tmp', {
  skip,
}, async () => {
  const base = fresh('policyparent');
  const userDir = path.join(base, 'actions-parent');
  mkdirSync(userDir, { mode: 0o755 });
  chownSync(userDir, NOBODY, NOBODY);
  const e = await refusal(
    installHelper({
      extensionPath: ROOT,
      installDir: path.join(base, 'hotspot'),
      policyDir: path.join(userDir, 'actions'),
      log: quiet,
    }),
  );
  assert.match(e.message, /polkit policy directory .* is not owned by root/);
  assert.equal(existsSync(path.join(base, 'hotspot')), false, 'no tree');

  // A root-owned link whose target lies in world-writable /tmp: the realpath is checked, not only the link.
  const target = mkdtempSync(path.join(tmpdir(), 'hotspot-target-'));
  try {
    symlinkSync(target, path.join(base, 'link'));
    const e2 = await refusal(
      installHelper({
        extensionPath: ROOT,
        installDir: path.join(base, 'link', 'hotspot'),
        policyDir: path.join(base, 'p'),
        log: quiet,
      }),
    );
    assert.match(e2.message, /\/tmp is writable by group or others/);
    assert.deepEqual(readdirSync(target), []);
  } finally {
    rmSync(target, { recursive: true, force: true });
  }
});

test('every installed file is checked against the manifest: a line appended to koffi is refused by name', {
  skip,
}, async () => {
  const base = fresh('tamper');
  const ext = extensionCopy();
  try {
    appendFileSync(
      path.join(ext, 'node_modules/koffi/index.cjs'),
      '\nrequire("child_process").execSync("id > /tmp/pwned");\n',
    );
    writeFileSync(path.join(ext, 'node_modules/koffi/extra.js'), 'not listed');
    const e = await refusal(
      installHelper({
        extensionPath: ext,
        installDir: path.join(base, 'hotspot'),
        policyDir: path.join(base, 'p'),
        log: quiet,
      }),
    );
    assert.match(e.message, /node_modules\/koffi\/index\.cjs does not match the manifest built at packaging/);
    assert.equal(existsSync(path.join(base, 'hotspot')), false, 'nothing installed');
    assert.equal(existsSync(path.join(base, 'p', `${POLKIT_ACTION}.policy`)), false);

    // Undo the tampering: the same copy installs, and a file the manifest does not list is not installed.
    copyFileSync(
      path.join(ROOT, 'node_modules/koffi/index.cjs'),
      path.join(ext, 'node_modules/koffi/index.cjs'),
    );
    const r = await installHelper({
      extensionPath: ext,
      installDir: path.join(base, 'hotspot'),
      policyDir: path.join(base, 'p'),
      log: quiet,
    });
    assert.equal(r.manifestSha256, readManifest(ROOT).summary);
    assert.equal(r.verifiedFiles, readManifest(ROOT).files.size);
    assert.equal(
      existsSync(path.join(base, 'hotspot/node_modules/koffi/extra.js')),
      false,
      'unlisted file not installed',
    );
    // Root can check the tree later with the installed manifest.
    execFileSync('sha256sum', ['--quiet', '--strict', '-c', 'helper-manifest.sha256'], {
      cwd: path.join(base, 'hotspot'),
    });
    const policy = readFileSync(r.policyFile, 'utf8');
    assert.match(policy, /<allow_inactive>no<\/allow_inactive>/);
    assert.match(policy, /<allow_any>no<\/allow_any>/);
  } finally {
    rmSync(ext, { recursive: true, force: true });
  }
});

test('the policy is written last: when it cannot be written, the new tree is removed too', {
  skip,
}, async (t) => {
  const base = fresh('rollback');
  const policyDir = path.join(BASE, 'ro-policy');
  mkdirSync(policyDir, { recursive: true, mode: 0o755 });
  // A read-only bind mount: root's write of the policy fails after the tree was copied, verified and swapped in.
  const m = spawnSync('sh', [
    '-c',
    `mount --bind "${policyDir}" "${policyDir}" && mount -o remount,bind,ro "${policyDir}"`,
  ]);
  if (m.status !== 0) return t.skip(`cannot make a read-only bind mount here: ${m.stderr}`);
  try {
    const e = await refusal(
      installHelper({ extensionPath: ROOT, installDir: path.join(base, 'hotspot'), policyDir, log: quiet }),
    );
    assert.match(e.message, /install script failed.*Nothing was left installed/s);
    assert.deepEqual(readdirSync(base), [], 'no tree, no leftover .new/.old directories');
    assert.deepEqual(readdirSync(policyDir), []);
  } finally {
    spawnSync('umount', [policyDir]);
  }
});

test('reinstall over a working install: a failed update restores the previous tree', { skip }, async (t) => {
  const base = fresh('restore');
  const policyDir = path.join(BASE, 'ro-policy');
  const dir = path.join(base, 'hotspot');
  await installHelper({ extensionPath: ROOT, installDir: dir, policyDir: path.join(base, 'p'), log: quiet });
  const before = readFileSync(path.join(dir, 'helper-manifest.sha256'), 'utf8');
  mkdirSync(policyDir, { recursive: true, mode: 0o755 });
  const m = spawnSync('sh', [
    '-c',
    `mount --bind "${policyDir}" "${policyDir}" && mount -o remount,bind,ro "${policyDir}"`,
  ]);
  if (m.status !== 0) return t.skip('cannot make a read-only bind mount here');
  try {
    await refusal(installHelper({ extensionPath: ROOT, installDir: dir, policyDir, log: quiet }));
  } finally {
    spawnSync('umount', [policyDir]);
  }
  assert.equal(
    readFileSync(path.join(dir, 'helper-manifest.sha256'), 'utf8'),
    before,
    'the previous tree is back',
  );
  assert.deepEqual(readdirSync(base).sort(), ['hotspot', 'p']);
});

test('the supervisor checks the launcher along its realpath: a root-owned link into a user-owned dir is refused', {
  skip,
}, () => {
  const base = fresh('realpath');
  const userDir = path.join(base, 'user');
  mkdirSync(userDir, { mode: 0o755 });
  const launcher = path.join(userDir, 'hotspot-helper');
  writeFileSync(launcher, '#!/bin/sh\n', { mode: 0o755 }); // root's file, in a directory the user owns
  chownSync(userDir, NOBODY, NOBODY);
  const rootDir = path.join(base, 'root');
  mkdirSync(rootDir, { mode: 0o755 });
  symlinkSync(launcher, path.join(rootDir, 'hotspot-helper'));
  assert.equal(
    unsafeForRoot(path.join(rootDir, 'hotspot-helper')),
    `${userDir} is not owned by root`,
    'the user could rename their directory and put any launcher behind the link',
  );
  chownSync(userDir, 0, 0);
  assert.equal(unsafeForRoot(path.join(rootDir, 'hotspot-helper')), undefined);
});
