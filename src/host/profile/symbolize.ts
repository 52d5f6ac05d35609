// Turns the helper's raw profile into named frames, as the user: native frames from the ELF symbol tables of the
// mapped files (or their separate debug files, by build id or .gnu_debuglink), file:line from DWARF through
// llvm-symbolizer where the file has line tables, JIT frames from the runtime's perf map. A frame that cannot be
// named says why. Parsed files are cached per path and inode (shared objects appear in most profiles).
import { execFile } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { plainText } from '../../shared/format';
import { type ElfSymbols, mayHaveLine, offsetToVaddr, readElf, symbolAt } from '../../shared/profile/elf';
import type { Frame, Stack, SymbolizedProfile } from '../../shared/profile/model';
import { mappingAt, type PerfMap, parsePerfMap, parseV8Name, perfMapAt } from '../../shared/profile/procMaps';
import type { ProfileResult } from '../../shared/wire/profile';
import type { ProcessImage } from './image';

const LLVM_SYMBOLIZER = ['llvm-symbolizer', 'llvm-symbolizer-14', 'llvm-symbolizer-16'];
const DEBUG_DIR = '/usr/lib/debug';

function readElfFile(file: string): ElfSymbols {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    return readElf((offset, length) => {
      const len = Math.max(0, Math.min(length, size - offset));
      const b = Buffer.allocUnsafe(len);
      let got = 0;
      while (got < len) {
        const n = readSync(fd, b, got, len - got, offset + got);
        if (n <= 0) break;
        got += n;
      }
      return b.subarray(0, got);
    });
  } finally {
    closeSync(fd);
  }
}

interface Binary {
  file: string;
  elf?: ElfSymbols;
  /** A separate debug file with the full symbol table and line tables, when one was found. */
  debug?: { file: string; elf: ElfSymbols };
  error?: string;
  /** file:line of addresses already asked of llvm-symbolizer (null: it had none), so a later profile skips it. */
  lines: Map<number, LineInfo | null>;
}

/** Parsed ELF files, by device + inode + mtime + size: kept across profiles by whoever owns the cache. The key
 *  comes from a stat, so a file seen before is not read again (a large binary's symbols take ~100 ms to parse). */
export class SymbolCache {
  private readonly byKey = new Map<string, Binary>();
  private readonly max = 256;

  binary(file: string, shown: string): Binary {
    let key: string;
    try {
      const st = statSync(file);
      key = `${st.dev}:${st.ino}:${st.mtimeMs}:${st.size}`;
    } catch (e) {
      return { file, error: (e as NodeJS.ErrnoException).code ?? (e as Error).message, lines: new Map() };
    }
    const hit = this.byKey.get(key);
    if (hit) return hit;
    let b: Binary;
    try {
      const elf = readElfFile(file);
      b = { file, elf, lines: new Map() };
      if (elf.table !== 'symtab' || !elf.hasDebugLine) b.debug = findDebugFile(elf, shown);
    } catch (e) {
      return { file, error: (e as NodeJS.ErrnoException).code ?? (e as Error).message, lines: new Map() };
    }
    if (this.byKey.size >= this.max) this.byKey.delete(this.byKey.keys().next().value as string);
    this.byKey.set(key, b);
    return b;
  }
}

/** The separate debug file: /usr/lib/debug/.build-id/ab/cdef….debug, else the .gnu_debuglink name beside it. */
function findDebugFile(elf: ElfSymbols, shown: string): Binary['debug'] {
  const candidates: string[] = [];
  if (elf.buildId && elf.buildId.length > 2)
    candidates.push(
      path.join(DEBUG_DIR, '.build-id', elf.buildId.slice(0, 2), `${elf.buildId.slice(2)}.debug`),
    );
  if (elf.debuglink && !elf.debuglink.includes('/')) {
    const dir = path.dirname(shown);
    candidates.push(path.join(dir, elf.debuglink), path.join(dir, '.debug', elf.debuglink));
    candidates.push(path.join(DEBUG_DIR, dir, elf.debuglink));
  }
  for (const c of candidates)
    if (c !== shown && existsSync(c))
      try {
        const d = readElfFile(c);
        if (d.table === 'symtab') return { file: c, elf: d };
      } catch {}
  return undefined;
}

let symbolizerBin: string | null | undefined;
function symbolizer(): string | null {
  if (symbolizerBin !== undefined) return symbolizerBin;
  symbolizerBin = null;
  for (const dir of ['/usr/bin', '/usr/local/bin'])
    for (const name of LLVM_SYMBOLIZER)
      if (existsSync(path.join(dir, name))) {
        symbolizerBin = path.join(dir, name);
        return symbolizerBin;
      }
  return null;
}

interface LineInfo {
  file: string;
  /** Where the function starts (its definition line), the line a frame opens at. */
  line: number;
  func: string;
}

/** file:line of each address through llvm-symbolizer (one run per file); an empty map without it. */
function linesOf(file: string, vaddrs: number[]): Promise<Map<number, LineInfo>> {
  const bin = symbolizer();
  const out = new Map<number, LineInfo>();
  if (!bin || vaddrs.length === 0) return Promise.resolve(out);
  const args = [
    '--obj',
    file,
    '--output-style=JSON',
    '--functions=linkage',
    ...vaddrs.map((a) => `0x${a.toString(16)}`),
  ];
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: 10_000, maxBuffer: 32 * 1024 * 1024 }, (err, stdout) => {
      if (err) return resolve(out);
      try {
        const rows = JSON.parse(stdout) as {
          Address: string;
          Symbol?: { FileName: string; StartLine: number; Line: number; FunctionName: string }[];
        }[];
        for (const r of rows) {
          const s = r.Symbol?.[r.Symbol.length - 1]; // the outermost of inlined frames: the function itself
          if (s?.FileName && (s.StartLine || s.Line))
            out.set(Number.parseInt(r.Address, 16), {
              file: s.FileName,
              line: s.StartLine || s.Line,
              func: s.FunctionName,
            });
        }
      } catch {}
      resolve(out);
    });
  });
}

/** C++ names without their parameter lists ("node::Start"), through binutils' c++filt; unchanged without it. */
function demangle(names: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (names.length === 0 || !existsSync('/usr/bin/c++filt')) return Promise.resolve(out);
  return new Promise((resolve) => {
    const child = execFile(
      '/usr/bin/c++filt',
      ['-p'],
      { timeout: 10_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout) => {
        if (!err) {
          const lines = stdout.split('\n');
          names.forEach((n, i) => {
            if (lines[i]) out.set(n, lines[i]);
          });
        }
        resolve(out);
      },
    );
    child.stdin?.on('error', () => {});
    child.stdin?.end(`${names.join('\n')}\n`);
  });
}

const JIT_HELP =
  "start it with NODE_OPTIONS='--perf-basic-prof-only-functions --interpreted-frames-native-stack' (Node) or " +
  'PYTHONPERFSUPPORT=1 (Python 3.12+), or turn on the setting hotspot.profiling.symbolizeJit for new terminals';

function runtimeOf(image: ProcessImage): 'node' | 'python' | 'java' | undefined {
  const exe = path.basename(image.cmdline[0] ?? image.comm);
  if (/^(node|nodejs)$/.test(exe) || image.comm === 'node' || image.comm === 'MainThread') return 'node';
  if (/^python/.test(exe)) return 'python';
  if (/^java/.test(exe)) return 'java';
  return undefined;
}

/** Names every frame of `raw`. `image` must have been snapshotted during the profile. */
export async function symbolize(
  raw: ProfileResult,
  image: ProcessImage,
  cache = new SymbolCache(),
): Promise<SymbolizedProfile> {
  image.snapshot(); // the latest maps (no-op for a process that exited)
  const frames: Frame[] = [];
  const frameIndex = new Map<string, number>();
  const intern = (raw: Frame): number => {
    // Names come from the observed process's files: no control or bidi character goes further.
    const f = { ...raw, name: plainText(raw.name), func: plainText(raw.func) };
    const key = `${f.kind}\0${f.module}\0${f.name}\0${f.file ?? ''}`;
    let i = frameIndex.get(key);
    if (i === undefined) {
      i = frames.length;
      frames.push(f);
      frameIndex.set(key, i);
    }
    return i;
  };
  const perfText = image.perfMap();
  const perfMap: PerfMap | undefined = perfText === undefined ? undefined : parsePerfMap(perfText);
  const runtime = runtimeOf(image);
  let unnamedJit = 0;
  let stripped = 0;

  // Native addresses to name per file, then file:line for those in files with line tables, in one run per file.
  const pending = new Map<string, { bin: Binary; vaddrs: Set<number> }>();
  const binaries = new Map<string, Binary>(); // by mapped path: one stat per file per profile
  const resolved = new Map<number, Frame | { bin: Binary; module: string; vaddr: number; func: string }>();
  const userAddrs = new Set<number>();
  // A return address points after its call: one byte back is the call itself, in the caller's line.
  for (const s of raw.stacks)
    for (let i = 0; i < s.user.length; i++) userAddrs.add(i === 0 ? s.user[i] : s.user[i] - 1);

  let lastYield = Date.now();
  for (const addr of userAddrs) {
    // Parsing a large binary's symbols takes a few hundred ms: let the extension host breathe between them.
    if (Date.now() - lastYield > 50) {
      await new Promise((r) => setImmediate(r));
      lastYield = Date.now();
    }
    const m = mappingAt(image.mappings, addr);
    if (!m) {
      const jit = perfMap && perfMapAt(perfMap, addr);
      resolved.set(
        addr,
        jit
          ? jitFrame(jit)
          : {
              name: '[unknown mapping]',
              func: '[unknown mapping]',
              kind: 'unnamed',
              module: '?',
              reason: 'the address was in no mapping of the process (unmapped before the maps were read)',
            },
      );
      continue;
    }
    if (
      m.path === '' ||
      m.path.startsWith('[anon') ||
      m.path === '[heap]' ||
      m.path.startsWith('//anon') ||
      m.path.startsWith('/memfd:')
    ) {
      const jit = perfMap && perfMapAt(perfMap, addr);
      if (jit) resolved.set(addr, jitFrame(jit));
      else {
        unnamedJit++;
        const why = perfMap ? 'JIT code not in the perf map' : 'JIT without a perf map';
        resolved.set(addr, {
          name: `[JIT: ${why}]`,
          func: '[JIT]',
          kind: 'unnamed',
          module: '[jit]',
          reason: why,
        });
      }
      continue;
    }
    if (m.path.startsWith('[')) {
      resolved.set(addr, { name: m.path, func: m.path, kind: 'native', module: m.path });
      continue;
    }
    const module = path.basename(m.path);
    let bin = binaries.get(m.path);
    if (!bin) {
      bin = cache.binary(image.inRoot(m.path), m.path);
      binaries.set(m.path, bin);
    }
    if (!bin.elf) {
      resolved.set(addr, {
        name: `[${module}: unreadable]`,
        func: module,
        kind: 'unnamed',
        module,
        reason: `the file could not be read (${bin.error})`,
      });
      continue;
    }
    const vaddr = offsetToVaddr(bin.elf, addr - m.start + m.offset);
    const table = bin.debug?.elf ?? bin.elf;
    const func = vaddr === undefined ? undefined : symbolAt(table, vaddr);
    if (!func || vaddr === undefined) {
      if (table.table !== 'symtab') stripped++;
      const why =
        table.table === 'none'
          ? 'no symbols: stripped'
          : table.table === 'dynsym'
            ? 'no symbols: stripped (only exported functions are named)'
            : 'no symbol covers this address';
      resolved.set(addr, { name: `[${module}: ${why}]`, func: module, kind: 'unnamed', module, reason: why });
      continue;
    }
    resolved.set(addr, { bin, module, vaddr, func });
    if (!mayHaveLine(bin.debug?.elf ?? bin.elf, vaddr)) continue;
    if (!bin.lines.has(vaddr)) {
      const key = bin.debug?.file ?? bin.file;
      const p = pending.get(key) ?? { bin, vaddrs: new Set<number>() };
      p.vaddrs.add(vaddr);
      pending.set(key, p);
    }
  }
  await Promise.all(
    [...pending].map(async ([file, p]) => {
      const found = await linesOf(file, [...p.vaddrs]);
      for (const v of p.vaddrs) p.bin.lines.set(v, found.get(v) ?? null);
    }),
  );

  const mangled = new Set<string>();
  for (const r of resolved.values()) if (!('kind' in r) && r.func.startsWith('_Z')) mangled.add(r.func);
  const plain = await demangle([...mangled]);
  for (const r of resolved.values()) if (!('kind' in r)) r.func = plain.get(r.func) ?? r.func;

  const frameOf = new Map<number, number>();
  for (const [addr, r] of resolved) {
    if ('kind' in r) {
      frameOf.set(addr, intern(r));
      continue;
    }
    const li = r.bin.lines.get(r.vaddr);
    frameOf.set(
      addr,
      intern(
        li
          ? {
              name: `${r.func} (${path.basename(li.file)}:${li.line})`,
              func: r.func,
              kind: 'native',
              module: r.module,
              file: li.file,
              line: li.line,
            }
          : { name: r.func, func: r.func, kind: 'native', module: r.module },
      ),
    );
  }

  const stacks: Stack[] = [];
  for (const s of raw.stacks) {
    const ids: number[] = [];
    for (let i = s.user.length - 1; i >= 0; i--) ids.push(frameOf.get(i === 0 ? s.user[i] : s.user[i] - 1)!);
    for (let i = s.kernel.length - 1; i >= 0; i--)
      ids.push(intern({ name: s.kernel[i], func: s.kernel[i], kind: 'kernel', module: '[kernel]' }));
    if (ids.length === 0)
      ids.push(
        intern({
          name: '[no stack]',
          func: '[no stack]',
          kind: 'unnamed',
          module: '?',
          reason: 'the kernel could not read a stack at this sample',
        }),
      );
    stacks.push({ frames: ids, count: s.count, tid: s.tid });
  }

  const notes: string[] = [];
  if (raw.ended === 'exited')
    notes.push(
      `The process exited after ${(raw.durationMs / 1000).toFixed(1)} s: this is a partial profile.`,
    );
  if (raw.ended === 'cancelled')
    notes.push(`Cancelled after ${(raw.durationMs / 1000).toFixed(1)} s: this is a partial profile.`);
  if (unnamedJit > 0)
    notes.push(
      perfMap
        ? `Some JIT frames are not in the runtime's perf map (/tmp/perf-${image.nspid}.map): code compiled before the map was started, or by a runtime that writes only part of it.`
        : `JIT frames are unnamed: ${runtime ?? 'the process'} was started without a perf map (/tmp/perf-${image.nspid}.map). To name them, ${JIT_HELP}.`,
    );
  if (stripped > 0)
    notes.push(
      'Some frames have no symbols: their files are stripped. Install the matching debug package (or a build with symbols) to name them.',
    );
  if (raw.lost > 0) notes.push(`${raw.lost} samples were lost (a stack map full or colliding).`);
  if (raw.omitted > 0)
    notes.push(`${raw.omitted} samples of rarely seen stacks were left out to keep the profile small.`);
  if (!raw.kernelSymbols && raw.stacks.some((s) => s.kernel.length))
    notes.push('Kernel frames are unnamed: the helper could not read kernel symbol addresses.');
  const comm = image.comm || raw.threads[0]?.comm || '';
  return {
    pid: raw.pid,
    comm,
    frequency: raw.frequency,
    startedAt: raw.startedAt,
    durationMs: raw.durationMs,
    samples: raw.samples,
    lost: raw.lost,
    omitted: raw.omitted,
    ended: raw.ended,
    threads: raw.threads,
    frames,
    stacks,
    notes,
  };
}

function jitFrame(raw: string): Frame {
  const js = parseV8Name(raw);
  if (js?.file) {
    const base = js.file.startsWith('node:') ? js.file : path.basename(js.file);
    return {
      name: `${js.name} (${base}:${js.line})`,
      func: js.name,
      kind: 'js',
      module: '[jit]',
      file: js.file.startsWith('/') ? js.file : undefined,
      line: js.line,
    };
  }
  if (js) return { name: js.name, func: js.name, kind: 'js', module: '[jit]' };
  // Other perf map entries: V8 builtins and stubs ("Builtin:ArrayMap"), Python ("py::fib:/x.py"), JVM methods.
  return { name: raw.slice(0, 200), func: raw.slice(0, 200), kind: 'js', module: '[jit]' };
}
