// Issue 21 #2: the helper reads BPF records at offsets generated from the objects' BTF, and refuses an object whose
// records are not the ones it reads. Shown with deliberately changed builds of tasks.bpf.o: a field added (the
// record grows) and two fields swapped (same size, other offsets).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
// @ts-expect-error: a build script in plain JavaScript (no types)
import { layoutsOf, render } from '../../scripts/bpf-layout.mjs';
import { TASK_REC } from '../../src/helper/layout';
import { LoadError, loadObject } from '../../src/helper/loader';

const ROOT = path.resolve(__dirname, '..', '..');
const BPF = path.join(ROOT, 'bpf');
const work = mkdtempSync(path.join(tmpdir(), 'hotspot-layout-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** tasks.bpf.o built from a hotspot.h changed by `edit`. */
function buildChanged(name: string, edit: (header: string) => string): string {
  const dir = path.join(work, name);
  execFileSync('mkdir', ['-p', dir]);
  for (const f of ['tasks.bpf.c', 'vmlinux.h']) copyFileSync(path.join(BPF, f), path.join(dir, f));
  const header = readFileSync(path.join(BPF, 'hotspot.h'), 'utf8');
  const changed = edit(header);
  assert.notEqual(changed, header, 'the edit must change the header');
  writeFileSync(path.join(dir, 'hotspot.h'), changed);
  const obj = path.join(dir, 'tasks.bpf.o');
  execFileSync('clang', [
    '-g',
    '-O2',
    '-target',
    'bpf',
    '-D__TARGET_ARCH_x86',
    `-I${dir}`,
    '-c',
    path.join(dir, 'tasks.bpf.c'),
    '-o',
    obj,
  ]);
  return obj;
}

test('src/helper/layout.ts is what the built objects BTF says', () => {
  execFileSync('node', [path.join(ROOT, 'scripts', 'bpf-layout.mjs'), '--check'], { stdio: 'pipe' });
});

test('a record that grew: its layout differs, and the loader refuses the object before the kernel sees it', () => {
  const obj = buildChanged('grown', (h) =>
    h.replace('\t__u64 exec_ns;\n', '\t__u64 exec_ns;\n\t__u64 extra;\n'),
  );
  const rec = layoutsOf(obj).task_rec;
  assert.equal(rec.size, TASK_REC.size + 8);
  assert.throws(
    () => loadObject(obj, ['dump_tasks']),
    (e: unknown) =>
      e instanceof LoadError &&
      e.stage === 'open' &&
      /map (task_out|exits) has 16-byte keys and 240-byte values|map task_out has 4-byte keys and 240-byte values/.test(
        e.message,
      ) &&
      /different builds/.test(e.message),
  );
});

test('two fields swapped at the same size: the sizes agree, the BTF layout does not', () => {
  const obj = buildChanged('swapped', (h) =>
    h.replace('\t__u64 nvcsw;\n\t__u64 nivcsw;\n', '\t__u64 nivcsw;\n\t__u64 nvcsw;\n'),
  );
  const fields = Object.fromEntries(layoutsOf(obj).task_rec.fields) as Record<string, number>;
  assert.equal(layoutsOf(obj).task_rec.size, TASK_REC.size);
  assert.equal(fields.nvcsw, TASK_REC.nivcsw);
  assert.equal(fields.nivcsw, TASK_REC.nvcsw);
  // The generator refuses objects that disagree on a record (and built alone, its layout.ts would differ).
  const layout = readFileSync(path.join(ROOT, 'src', 'helper', 'layout.ts'), 'utf8');
  assert.throws(() => render([obj, path.join(BPF, 'sched.bpf.o')]), /struct task_rec differs/);
  assert.equal(render([path.join(BPF, 'tasks.bpf.o'), path.join(BPF, 'sched.bpf.o')]), layout);
});
