// The packaged artifact: scripts/package.sh → .vsix + .sha256 (checked with sha256sum -c), installed into a clean
// code-server with --install-extension (no development path), then "Hotspot: Start" must produce a diagnosis.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { runCommand, screenshot } from '../../scripts/e2e/browser';
import { installExtension, makeProfile, ROOT } from '../../scripts/e2e/codeServer';
import { e2eSession, missing, startYes, TEST_CONFIG, waitForTree } from './lib';

const skip = missing();
const session = e2eSession();

test('package.sh → verified .vsix → installed in code-server → Start shows a diagnosis', {
  skip,
  timeout: 180_000,
}, async () => {
  const out = execFileSync('bash', [path.join(ROOT, 'scripts/package.sh')], { cwd: ROOT, encoding: 'utf8' });
  const vsix = out.trim().split('\n').pop() ?? '';
  assert.match(vsix, /\.vsix$/);
  const check = execFileSync('sha256sum', ['-c', `${path.basename(vsix)}.sha256`], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  assert.match(check, /: OK/);

  // The helper must be able to run from the installed extension (and be copied by Install Helper).
  const entries = execFileSync('python3', ['-m', 'zipfile', '-l', vsix], { encoding: 'utf8' });
  for (const f of [
    'extension/dist/extension.js',
    'extension/dist/helper.js',
    'extension/dist/helper-manifest.sha256',
    'extension/bpf/sched.bpf.o',
    'extension/bpf/tasks.bpf.o',
    'extension/node_modules/koffi/package.json',
    'extension/node_modules/@koromix/koffi-linux-x64/linux_x64/koffi.node',
  ])
    assert.ok(entries.includes(f), `${f} is in the .vsix`);
  assert.ok(!/extension\/(src|test|scripts)\//.test(entries), 'no sources or tests in the .vsix');

  const profile = makeProfile({ 'hotspot.configPath': TEST_CONFIG, 'hotspot.measurementWindow': 1000 });
  const installed = installExtension(profile, vsix);
  assert.match(installed, /successfully installed/i);
  const page = await session.open({ profile });
  await runCommand(page, 'Hotspot: Start');
  const yes = startYes();
  session.workloads.push(yes);
  await waitForTree(
    page,
    (rows) =>
      rows.some((r) => r.level > 1 && r.text.includes(`yes (${yes.pid})`) && /CPU-bound/.test(r.group)),
    `yes (${yes.pid}) under CPU-bound from the installed .vsix`,
    60_000,
  );
  await screenshot(page, 'vsix-tree');
  await runCommand(page, 'Hotspot: Stop');
});
