// Runs the extension-host mocha suite (test/exthost, bundled to dist/exthost-tests.js) inside a real VS Code:
// code-server loads the repo as a development extension through the payload URL and reports the suite's exit
// code through codeAutomationExit (the server log's exit code cannot be trusted).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { build } from 'esbuild';
import { openWorkbench, withTimeout } from '../../scripts/e2e/browser';
import { type CodeServer, ROOT, startCodeServer } from '../../scripts/e2e/codeServer';
import { missing, TEST_CONFIG, WORKSPACE } from './lib';

const ENTRY = path.join(ROOT, 'test/exthost/index.ts');
const BUNDLE = path.join(ROOT, 'dist/exthost-tests.js');
const skip = missing() || (existsSync(ENTRY) ? false : 'test/exthost/index.ts does not exist yet');
let cs: CodeServer | undefined;

after(async () => {
  await cs?.stop();
});

test('extension-host suite passes inside code-server', { skip, timeout: 180_000 }, async () => {
  // mocha stays external: the bundle lives in dist/, so it resolves from the repo's node_modules.
  await build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: true,
    external: ['vscode', 'koffi', 'mocha'],
    outfile: BUNDLE,
    logLevel: 'warning',
  });
  cs = await startCodeServer({ settings: { 'hotspot.configPath': TEST_CONFIG } });
  const wb = await openWorkbench(cs.url(WORKSPACE, { devPath: ROOT, testsPath: BUNDLE }), { echo: true });
  try {
    const code = await withTimeout(wb.exitCode, 150_000, 'extension-host suite (codeAutomationExit)');
    assert.equal(code, 0, 'the mocha suite in the extension host failed; see its output above');
  } finally {
    await wb.close();
  }
});
