// Writes dist/helper-manifest.sha256: every file the privileged helper runs from (its bundle, the BPF objects, koffi
// and this platform's prebuilt koffi.node), one "<sha256>  <path>" line each, sorted, in sha256sum's format. Paths
// are those of the installed tree (dist/helper.js is installed as helper.js), so `sha256sum -c` works there too.
// Run at packaging (scripts/package.sh, and scripts/build.mjs for development installs). Install Helper copies
// exactly these files and checks each hash, as the user and again as root on the root-owned copy; the manifest's
// own SHA-256 (the "summary") is shown in the install flow and published beside the .vsix.
// Usage: node scripts/helper-manifest.mjs [root]   → prints the summary hash.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

export const MANIFEST = 'dist/helper-manifest.sha256';

/** The files, relative to the extension root, that the installed helper needs at run time. */
export function helperFiles(root) {
  const files = ['dist/helper.js'];
  const bpf = path.join(root, 'bpf');
  for (const f of existsSync(bpf) ? readdirSync(bpf).sort() : [])
    if (f.endsWith('.bpf.o')) files.push(`bpf/${f}`);
  if (!files.includes('bpf/sched.bpf.o') || !files.includes('bpf/tasks.bpf.o'))
    throw new Error(`no BPF objects in ${bpf}: run scripts/build-bpf.sh first`);
  const walk = (dir, keep) => {
    for (const e of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(rel, keep);
      else if (e.isFile() && keep(rel)) files.push(rel);
    }
  };
  // koffi's JavaScript entry points and package.json (not its docs, vendored sources or build tool).
  const koffi = 'node_modules/koffi';
  walk(koffi, (rel) => {
    const r = rel.slice(koffi.length + 1);
    return /\.(c?js|json)$/.test(r) && !/^(doc|vendor|lib)\//.test(r) && r !== 'cnoke.cjs';
  });
  // This platform's prebuilt binary (glibc); the .vsix ships the same directory.
  const arch = { x64: 'x64', arm64: 'arm64' }[process.arch];
  const native = `node_modules/@koromix/koffi-${process.platform}-${arch}`;
  if (!arch || !existsSync(path.join(root, native)))
    throw new Error(`koffi has no prebuilt binary for ${process.arch}`);
  walk(native, (rel) => {
    const r = rel.slice(native.length + 1);
    return r === 'index.js' || r === 'package.json' || r.startsWith(`${process.platform}_${arch}/`);
  });
  return files.sort();
}

/** Where a file of the extension goes in the installed tree. */
export const installedName = (rel) => (rel === 'dist/helper.js' ? 'helper.js' : rel);

export function writeManifest(root) {
  const lines = helperFiles(root)
    .map((rel) => [
      installedName(rel),
      createHash('sha256')
        .update(readFileSync(path.join(root, rel)))
        .digest('hex'),
    ])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([name, hash]) => `${hash}  ${name}\n`);
  const text = lines.join('');
  writeFileSync(path.join(root, MANIFEST), text);
  return createHash('sha256').update(text).digest('hex');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = path.resolve(process.argv[2] ?? '.');
  process.stdout.write(`${writeManifest(root)}\n`);
}
