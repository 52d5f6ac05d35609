// The tree is the architecture: kernel (bpf/) → helper → protocol → diagnosis → views. These checks keep each
// layer's imports to the layers below it, and the pure floor (src/shared) free of I/O and of vscode.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

const SRC = path.join(__dirname, '..', '..', 'src');

function sources(dir: string): string[] {
  return readdirSync(path.join(SRC, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(path.join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [path.join(dir, e.name)]
        : [],
  );
}

/** Every module a file imports (static, side-effect only, re-exports, dynamic import()), as written. */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(SRC, file), 'utf8');
  return [...text.matchAll(/(?:from|import\(|^import)\s*'([^']+)'/gm)].map((m) => m[1]);
}

/** The src/ folder an import lands in, or the package it names. */
function target(file: string, spec: string): string {
  if (!spec.startsWith('.')) return spec;
  return path.relative(SRC, path.resolve(path.join(SRC, path.dirname(file)), spec)).split(path.sep)[0];
}

/** Per folder: the src/ folders and packages it may import, and whether Node's built-ins (I/O) are allowed. */
const ALLOWED: Record<string, { imports: string[]; node: boolean }> = {
  shared: { imports: ['shared', 'yaml', 'pprof-format'], node: false },
  host: { imports: ['shared', 'host', 'yaml'], node: true },
  helper: { imports: ['shared', 'host', 'helper', 'koffi'], node: true },
  cli: { imports: ['shared', 'host', 'cli', 'serve'], node: true },
  serve: { imports: ['shared', 'host', 'serve', 'prom-client', '@opentelemetry'], node: true },
  extension: { imports: ['shared', 'host', 'extension', 'vscode'], node: true },
  webview: { imports: ['shared', 'webview', '@vscode-elements/elements'], node: false },
};

for (const [folder, { imports, node }] of Object.entries(ALLOWED))
  test(`src/${folder} imports only ${imports.join(', ')}${node ? ' and Node' : ''}`, () => {
    const bad: string[] = [];
    for (const file of sources(folder))
      for (const spec of importsOf(file)) {
        const t = target(file, spec);
        const ok = imports.some((a) => t === a || t.startsWith(`${a}/`)) || (node && t.startsWith('node:'));
        if (!ok) bad.push(`${file} → ${spec}`);
      }
    assert.deepEqual(bad, []);
  });

/**
 * The pure floor reads as stages. Each room of src/shared imports only the rooms listed for it (and itself): the
 * wire (what the helper sends and how a consumer reads it), accounting (kernel counters → per-window deltas, the
 * producer's side), diagnosis (windows → labelled processes), presentation (words, models for the views), profile
 * (sampled stacks → call trees and export formats, beside the diagnosis). The units and plain-text floor
 * (src/shared/*.ts) imports no room.
 */
const ROOMS: Record<string, string[]> = {
  '.': [],
  wire: ['.'],
  accounting: ['.', 'wire'],
  diagnosis: ['.', 'wire'],
  presentation: ['.', 'wire', 'diagnosis'],
  profile: ['.', 'wire'],
};

/** The room of a path under src/shared ('.' for a file directly in it). */
function roomOf(relToShared: string): string {
  const parts = relToShared.split(path.sep);
  return parts.length === 1 ? '.' : parts[0];
}

test('src/shared has only the rooms wire, accounting, diagnosis, presentation, profile and the floor', () => {
  const rooms = new Set(sources('shared').map((f) => roomOf(path.relative('shared', f))));
  assert.deepEqual([...rooms].sort(), Object.keys(ROOMS).sort());
});

for (const [room, below] of Object.entries(ROOMS))
  test(`src/shared/${room === '.' ? '*.ts' : room} imports only ${below.length ? below.join(', ') : 'itself'} within src/shared`, () => {
    const bad: string[] = [];
    for (const file of sources('shared')) {
      if (roomOf(path.relative('shared', file)) !== room) continue;
      for (const spec of importsOf(file)) {
        if (!spec.startsWith('.')) continue;
        const to = path.relative(
          path.join(SRC, 'shared'),
          path.resolve(path.join(SRC, path.dirname(file)), spec),
        );
        const r = roomOf(to);
        if (r !== room && !below.includes(r)) bad.push(`${file} → ${spec}`);
      }
    }
    assert.deepEqual(bad, []);
  });
