// The launcher and the polkit policy come from one template for Install Helper and the .deb (issue 21), and nothing
// that is not a plain path reaches the text root runs.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { HELPER_NODE_FLAGS, LAUNCHER_CAPS } from '../../src/host/rootPath';
import { launcherScript, packaged, polkitPolicy } from '../../src/host/rootTemplates';

const ROOT = path.resolve(__dirname, '../..');

test('the launcher runs the given node with every helper flag under the launcher bounding set', () => {
  const s = launcherScript({ node: '/usr/bin/node', installDir: '/opt/h', installedBy: 'a test' });
  assert.ok(s.startsWith('#!/bin/sh\n'));
  assert.ok(s.includes(`caps=${LAUNCHER_CAPS}\n`));
  assert.equal(s.split(`/usr/bin/node ${HELPER_NODE_FLAGS.join(' ')} /opt/h/helper.js "$@"`).length, 3);
  for (const cap of ['setuid', 'setgid', 'syslog', 'bpf', 'perfmon'])
    assert.match(LAUNCHER_CAPS, new RegExp(`\\+${cap}\\b`));
});

test('a path with shell syntax, spaces or .. never reaches root text', () => {
  for (const bad of ['/usr/bin/node; id', '/a b/node', '/x/../node', 'node', '/x/$(id)'])
    assert.throws(
      () => launcherScript({ node: bad, installDir: '/opt/h', installedBy: 't' }),
      /refusing node/,
    );
  assert.throws(() => polkitPolicy({ action: 'dev.x', launcher: '/a"/b' }), /refusing launcher/);
  assert.throws(() => polkitPolicy({ action: 'x"><y', launcher: '/a/b' }), /refusing polkit action/);
});

test('package-deb.sh writes the texts the templates render (no copy of its own)', () => {
  const sh = readFileSync(path.join(ROOT, 'scripts/package-deb.sh'), 'utf8');
  assert.doesNotMatch(sh, /<policyconfig>|setpriv/, 'no hand-written launcher or policy');
  const rendered = (w: string) =>
    execFileSync(process.execPath, ['--import', 'tsx', 'scripts/render-root-files.ts', w], {
      cwd: ROOT,
      encoding: 'utf8',
    });
  assert.equal(rendered('launcher'), packaged.launcher());
  assert.equal(rendered('policy'), packaged.policy());
  assert.match(packaged.policy(), /exec\.path">\/usr\/lib\/hotspot\/hotspot-helper</);
});
