// Bundles every entry point with esbuild. koffi stays external: it carries its own native binaries.
import { existsSync, readFileSync } from 'node:fs';
import * as esbuild from 'esbuild';
import { writeManifest } from './helper-manifest.mjs';

const watch = process.argv.includes('--watch');
/** One version, package.json's, in the CLI's --version and the helper's hello. */
const version = JSON.parse(readFileSync('package.json', 'utf8')).version;
const node = {
  define: { HOTSPOT_VERSION: JSON.stringify(version) },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  external: ['vscode', 'koffi'],
  logLevel: 'warning',
};
/** The webviews' scripts: ES modules for the webview's browser. */
const browser = {
  bundle: true,
  platform: 'browser',
  target: 'es2022',
  format: 'esm',
  sourcemap: true,
  logLevel: 'warning',
};
const entries = [
  { ...node, entryPoints: ['src/helper/main.ts'], outfile: 'dist/helper.js' },
  {
    ...node,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    banner: { js: '#!/usr/bin/env node' },
  },
  { ...node, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js' },
  {
    ...browser,
    entryPoints: ['src/webview/main.ts'],
    outfile: 'dist/webview.js',
  },
  {
    ...browser,
    entryPoints: ['src/webview/profile/main.ts'],
    outfile: 'dist/profileView.js',
  },
].filter((e) => existsSync(e.entryPoints[0]));

if (watch) {
  for (const e of entries) await (await esbuild.context(e)).watch();
} else {
  await Promise.all(entries.map((e) => esbuild.build(e)));
  // The helper's manifest (what Install Helper may install, with hashes), once the BPF objects exist.
  if (existsSync('bpf/sched.bpf.o') && existsSync('bpf/tasks.bpf.o')) writeManifest('.');
  else
    console.warn('build: no BPF objects yet, so no dist/helper-manifest.sha256 (run scripts/build-bpf.sh)');
}
