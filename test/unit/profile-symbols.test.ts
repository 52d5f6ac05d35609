// Symbolization's pure parts: the ELF reader on real binaries of this machine, /proc maps, perf maps and V8's names.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, fstatSync, mkdtempSync, openSync, readSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { mayHaveLine, offsetToVaddr, readElf, symbolAt } from '../../src/shared/profile/elf';
import {
  mappingAt,
  mergeMaps,
  parseMaps,
  parsePerfMap,
  parseV8Name,
  perfMapAt,
} from '../../src/shared/profile/procMaps';

function elfOf(file: string) {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    return readElf((off, len) => {
      const b = Buffer.alloc(Math.max(0, Math.min(len, size - off)));
      readSync(fd, b, 0, b.length, off);
      return b;
    });
  } finally {
    closeSync(fd);
  }
}

test('the ELF reader finds functions, build id and line tables as nm and readelf do; stripped keeps none', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hotspot-elf-'));
  const src = path.join(dir, 'x.c');
  writeFileSync(
    src,
    'int helper(int x) { return x * 3; }\nint main(int c, char **v) { (void)v; return helper(c); }\n',
  );
  const bin = path.join(dir, 'x');
  execFileSync('cc', ['-O0', '-g', '-Wl,--build-id', '-o', bin, src]);
  const elf = elfOf(bin);
  assert.equal(elf.table, 'symtab');
  assert.ok(elf.hasDebugLine);
  const nm = execFileSync('nm', [bin], { encoding: 'utf8' });
  const helperAddr = Number.parseInt(/^([0-9a-f]+) T helper$/m.exec(nm)![1], 16);
  assert.equal(symbolAt(elf, helperAddr + 2), 'helper');
  const readelf = execFileSync('readelf', ['-n', bin], { encoding: 'utf8' });
  assert.equal(elf.buildId, /Build ID: ([0-9a-f]+)/.exec(readelf)![1]);
  // PIE: the text segment's file offset maps to its vaddr.
  assert.equal(offsetToVaddr(elf, elf.segments[1].offset), elf.segments[1].vaddr);
  execFileSync('strip', [bin]);
  const s = elfOf(bin);
  assert.equal(s.table, 'none');
  assert.equal(symbolAt(s, helperAddr + 2), undefined);
  assert.throws(() => readElf(() => Buffer.from('#!/bin/sh\n'.padEnd(64))), /not an ELF file/);
});

test('every function nm lists resolves to its own name (or an alias at its address) in a many-function binary', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hotspot-elf-'));
  const src = path.join(dir, 'many.c');
  // Functions defined in reverse address order of their names, so the table must really be sorted by address.
  const fns = Array.from({ length: 400 }, (_, i) => `int f${i}(int x) { return x * ${i + 3} + ${i}; }`);
  writeFileSync(src, `${fns.join('\n')}\nint main(int c, char **v) { (void)v; return f7(c); }\n`);
  const bin = path.join(dir, 'many');
  execFileSync('cc', ['-O0', '-o', bin, src]);
  const elf = elfOf(bin);
  const nm = execFileSync('nm', ['--defined-only', bin], { encoding: 'utf8' });
  const byAddr = new Map<number, string[]>();
  for (const m of nm.matchAll(/^([0-9a-f]+) [Tt] (\S+)$/gm)) {
    const a = Number.parseInt(m[1], 16);
    byAddr.set(a, [...(byAddr.get(a) ?? []), m[2]]);
  }
  let checked = 0;
  for (const [addr, names] of byAddr) {
    assert.ok(names.includes(symbolAt(elf, addr) ?? ''), `${names.join('/')} at ${addr.toString(16)}`);
    checked++;
  }
  assert.ok(checked > 400, `${checked} functions checked`);
});

test('line ranges: code built with -g may have a line, code linked in without -g is not asked about', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hotspot-elf-'));
  writeFileSync(
    path.join(dir, 'a.c'),
    'int with_lines(int x) { return x + 1; }\nint main(void) { return with_lines(1); }\n',
  );
  writeFileSync(path.join(dir, 'b.c'), 'int without_lines(int x) { return x * 7; }\n');
  execFileSync('cc', ['-O0', '-c', '-o', path.join(dir, 'b.o'), path.join(dir, 'b.c')]);
  const bin = path.join(dir, 'ab');
  execFileSync('cc', ['-O0', '-g', '-o', bin, path.join(dir, 'a.c'), path.join(dir, 'b.o')]);
  const elf = elfOf(bin);
  assert.ok(elf.hasDebugLine);
  assert.ok(elf.lineRanges, 'gcc writes .debug_aranges for every unit');
  const nm = execFileSync('nm', [bin], { encoding: 'utf8' });
  const at = (name: string) => Number.parseInt(new RegExp(`^([0-9a-f]+) T ${name}$`, 'm').exec(nm)![1], 16);
  assert.equal(mayHaveLine(elf, at('with_lines') + 1), true);
  assert.equal(mayHaveLine(elf, at('main') + 1), true);
  assert.equal(mayHaveLine(elf, at('without_lines') + 1), false);
  // Without aranges nothing is known: every address is asked about.
  assert.equal(mayHaveLine({ hasDebugLine: true }, at('without_lines')), true);
  assert.equal(mayHaveLine({ hasDebugLine: false }, at('with_lines')), false);
});

test('the symbol cache parses a file once, and again once it changed', async () => {
  const { SymbolCache } = await import('../../src/host/profile/symbolize');
  const dir = mkdtempSync(path.join(tmpdir(), 'hotspot-elf-'));
  const src = path.join(dir, 'y.c');
  writeFileSync(src, 'int main(void) { return 0; }\n');
  const bin = path.join(dir, 'y');
  execFileSync('cc', ['-O0', '-o', bin, src]);
  const cache = new SymbolCache();
  const a = cache.binary(bin, bin);
  assert.ok(a.elf, a.error);
  assert.equal(cache.binary(bin, bin), a, 'the same file is not parsed again');
  execFileSync('cc', ['-O0', '-o', `${bin}.new`, src]);
  execFileSync('mv', [`${bin}.new`, bin]);
  assert.notEqual(cache.binary(bin, bin), a, 'a replaced file is parsed again');
  assert.match(cache.binary(path.join(dir, 'missing'), 'missing').error ?? '', /ENOENT/);
});

test('maps: parsed, looked up, merged (an unmapped library still resolves from an earlier snapshot)', () => {
  const text = [
    '55d0c0a00000-55d0c0a21000 r-xp 00001000 fe:01 1234                       /usr/bin/x',
    '7f0000000000-7f0000100000 r-xp 00000000 00:00 0 ',
    '7fff00000000-7fff00002000 r-xp 00000000 00:00 0                          [vdso]',
    '7f1000000000-7f1000001000 r-xp 00002000 fe:01 99   /tmp/gone.so (deleted)',
  ].join('\n');
  const maps = parseMaps(text);
  assert.equal(mappingAt(maps, 0x55d0c0a00010)?.path, '/usr/bin/x');
  assert.equal(mappingAt(maps, 0x55d0c0a00010)?.offset, 0x1000);
  assert.equal(mappingAt(maps, 0x7f0000000100)?.path, '');
  assert.equal(mappingAt(maps, 0x7f1000000010)?.path, '/tmp/gone.so');
  assert.equal(mappingAt(maps, 0x1000), undefined);
  const later = parseMaps(text.split('\n').slice(0, 2).join('\n'));
  assert.equal(mappingAt(mergeMaps(later, maps), 0x7fff00000010)?.path, '[vdso]');
});

test('perf maps and V8 names: fib (bench.js:12) with the path kept; the newest entry of an address wins', () => {
  const map = parsePerfMap(
    [
      '3a0c0  40 JS:~fib /home/u/bench.js:12:20',
      '3a0c0  80 JS:*fib /home/u/bench.js:12:20',
      '3b000 10 Builtin:ArrayMap',
    ].join('\n'),
  );
  assert.equal(perfMapAt(map, 0x3a0c0 + 0x50), 'JS:*fib /home/u/bench.js:12:20');
  assert.equal(perfMapAt(map, 0x3b00f), 'Builtin:ArrayMap');
  assert.equal(perfMapAt(map, 0x3b010), undefined);
  assert.deepEqual(parseV8Name('JS:*fib /home/u/bench.js:12:20'), {
    name: 'fib',
    file: '/home/u/bench.js',
    line: 12,
    column: 20,
    tier: '*',
  });
  assert.deepEqual(parseV8Name('JS:~ /home/u/my app/a.js:1:1'), {
    name: '(anonymous)',
    file: '/home/u/my app/a.js',
    line: 1,
    column: 1,
    tier: '~',
  });
  assert.equal(parseV8Name('LazyCompile:*work file:///srv/a%20b.mjs:3:9')?.file, '/srv/a b.mjs');
  assert.equal(parseV8Name('Builtin:ArrayMap'), undefined);
});

test('kernel addresses are named from kallsyms text fed in chunks, modules too; zero addresses name nothing', async () => {
  const { KallsymsMatcher } = await import('../../src/helper/kallsyms');
  const text = [
    'ffffffff81000000 T _stext',
    'ffffffff81001000 t do_work',
    'ffffffff81002000 D some_data',
    'ffffffff81003000 T after',
    'ffffffffc0a01000 t mod_fn\t[mymod]',
  ].join('\n');
  const m = new KallsymsMatcher([
    0xffffffff81001010n,
    0xffffffff81002500n,
    0xffffffffc0a01004n,
    0xffffffff80000000n,
  ]);
  for (let i = 0; i < text.length; i += 7) m.push(text.slice(i, i + 7));
  const k = m.finish();
  assert.equal(k.real, true);
  assert.equal(k.names.get(0xffffffff81001010n), 'do_work');
  assert.equal(k.names.get(0xffffffff81002500n), 'do_work', 'data symbols are not code');
  assert.equal(k.names.get(0xffffffffc0a01004n), 'mod_fn [mymod]');
  assert.equal(k.names.get(0xffffffff80000000n), '[kernel]');
  const hidden = new KallsymsMatcher([0xffffffff81001010n]);
  hidden.push('0000000000000000 T _stext\n0000000000000000 t do_work\n');
  assert.deepEqual([...hidden.finish().names.values()], ['[kernel]']);
});
