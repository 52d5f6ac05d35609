// The helper as a Debian package (issue 11, finding 4): scripts/package-deb.sh builds it, apt installs it, dpkg
// records every file's checksum and `dpkg --verify` catches a changed file; the installed launcher runs the helper,
// and the supervisor prefers it. Removed (purged) in finally.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { readManifest } from '../../src/host/install';
import { HELPER_NODE_FLAGS, launcherPath, PACKAGE_INSTALL_DIR, unsafeForRoot } from '../../src/host/rootPath';

const ROOT = path.resolve(__dirname, '../..');
const PKG = 'hotspot-helper';
const APT = ['-o', 'DPkg::Lock::Timeout=300', '-y', '-q'];
const skip =
  process.getuid?.() !== 0
    ? 'needs root'
    : spawnSync('dpkg-deb', ['--version']).status !== 0
      ? 'dpkg-deb is missing'
      : spawnSync('dpkg', ['-s', PKG]).status === 0
        ? `${PKG} is already installed on this machine; not touching it`
        : !existsSync(path.join(ROOT, 'dist/helper-manifest.sha256'))
          ? 'not built'
          : spawnSync('sh', [
                '-c',
                // biome-ignore lint/suspicious/noTemplateCurlyInString: a dpkg-query format, not JavaScript
                'dpkg --compare-versions "$(dpkg-query -W -f=\'${Version}\' nodejs)" ge 20',
              ]).status !== 0
            ? 'the package depends on the nodejs package ≥ 20, which is not installed here'
            : false;

test('package-deb.sh → apt-get install ./hotspot-helper_….deb → dpkg --verify → the helper runs → purge', {
  skip,
  timeout: 600_000,
}, () => {
  const out = mkdtempSync(path.join(tmpdir(), 'hotspot-deb-'));
  try {
    const deb = execFileSync('bash', [path.join(ROOT, 'scripts/package-deb.sh'), out], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    assert.match(path.basename(deb), /^hotspot-helper_\d+\.\d+\.\d+_[a-z0-9]+\.deb$/);
    const install = spawnSync('apt-get', [...APT, 'install', `./${path.basename(deb)}`], {
      cwd: out,
      encoding: 'utf8',
    });
    assert.equal(install.status, 0, `apt-get install failed:\n${install.stdout}\n${install.stderr}`);

    // dpkg knows every file of the manifest, and they verify.
    const listed = execFileSync('dpkg', ['-L', PKG], { encoding: 'utf8' }).split('\n');
    for (const f of readManifest(ROOT).files.keys())
      assert.ok(listed.includes(path.join(PACKAGE_INSTALL_DIR, f)), `${f} is in the package`);
    const verify = spawnSync('dpkg', ['--verify', PKG], { encoding: 'utf8' });
    assert.equal(verify.status, 0, verify.stderr);
    assert.equal(verify.stdout.trim(), '', 'a fresh install verifies clean');

    // Root-owned, and the supervisor picks it without any configuration.
    assert.equal(launcherPath(), path.join(PACKAGE_INSTALL_DIR, 'hotspot-helper'));
    assert.equal(unsafeForRoot(launcherPath()), undefined);
    const launcher = readFileSync(launcherPath(), 'utf8');
    assert.ok(
      launcher.includes(`/usr/bin/node ${HELPER_NODE_FLAGS.join(' ')} /usr/lib/hotspot/helper.js`),
      'the packaged launcher starts node with the flags every other launch uses',
    );
    const policy = readFileSync('/usr/share/polkit-1/actions/dev.hotspot.helper.packaged.policy', 'utf8');
    assert.match(policy, /exec\.path">\/usr\/lib\/hotspot\/hotspot-helper</);
    assert.match(policy, /<allow_inactive>no</);

    // The packaged launcher runs the helper (root, so directly): a hello, then stdin EOF ends it.
    const run = spawnSync(launcherPath(), ['--interval-ms', '500'], {
      input: '',
      encoding: 'utf8',
      timeout: 30_000,
    });
    const hello = run.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
      .find((m) => m.type === 'hello');
    assert.ok(hello, `no hello from the packaged helper: ${run.stderr.slice(-1500)}`);

    // The packaged CLI runs from the root-owned tree.
    const cli = spawnSync('/usr/bin/node', [path.join(PACKAGE_INSTALL_DIR, 'cli.js'), '--version'], {
      encoding: 'utf8',
    });
    assert.match(cli.stdout, /^hotspot \d+\.\d+\.\d+/);

    // hotspot serve as a service: the unit is installed but not enabled, and the packaged serve starts the helper
    // as root and then runs as the hotspot user the postinst created.
    assert.ok(existsSync('/usr/lib/systemd/system/hotspot-serve.service'), 'the unit is installed');
    assert.equal(
      existsSync('/etc/systemd/system/multi-user.target.wants/hotspot-serve.service'),
      false,
      'not enabled',
    );
    assert.equal(
      spawnSync('getent', ['passwd', 'hotspot']).status,
      0,
      'the postinst created the hotspot user',
    );
    const served = spawnSync(
      'timeout',
      [
        '-s',
        'TERM',
        '8',
        '/usr/bin/node',
        path.join(PACKAGE_INSTALL_DIR, 'cli.js'),
        'serve',
        '--listen',
        '127.0.0.1:0',
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    assert.match(served.stderr, /serving as hotspot \(uid \d+\)/);
    assert.match(served.stderr, /listening on http:\/\/127\.0\.0\.1:\d+/);

    // A changed file is caught by dpkg --verify.
    appendFileSync(path.join(PACKAGE_INSTALL_DIR, 'node_modules/koffi/index.cjs'), '\n// changed\n');
    const tampered = spawnSync('dpkg', ['--verify', PKG], { encoding: 'utf8' });
    assert.match(tampered.stdout, /^\?\?5\S* +\/usr\/lib\/hotspot\/node_modules\/koffi\/index\.cjs$/m);
  } finally {
    spawnSync('apt-get', [...APT, 'purge', PKG], { encoding: 'utf8' });
    rmSync(out, { recursive: true, force: true });
  }
  assert.equal(spawnSync('dpkg', ['-s', PKG]).status === 0, false, 'removed');
  assert.equal(existsSync(PACKAGE_INSTALL_DIR), false, 'nothing left in /usr/lib/hotspot');
});
