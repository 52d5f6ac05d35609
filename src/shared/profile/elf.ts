// A small ELF64 little-endian reader for symbolization: function symbols (.symtab, else .dynsym), the build id, the
// .gnu_debuglink name and the loadable segments (to turn a file offset into the address symbols are given in).
// Pure: it reads through `read(offset, length)`, so the caller decides how bytes arrive (a file, a test buffer).

export type ReadAt = (offset: number, length: number) => Buffer;

export interface ElfSymbols {
  /** ET_EXEC (fixed addresses) or ET_DYN (shared objects, PIE). */
  kind: 'exec' | 'dyn' | 'other';
  buildId?: string;
  debuglink?: string;
  /** Which table named the functions: the full .symtab, only the exported .dynsym (stripped), or none. */
  table: 'symtab' | 'dynsym' | 'none';
  /** The file carries DWARF line tables (.debug_line), so file:line can be asked of it. */
  hasDebugLine: boolean;
  /** Where line information can be: the address ranges of .debug_aranges, when they cover every compilation unit of
   *  .debug_info (an address outside them has no file:line, so llvm-symbolizer need not be asked). */
  lineRanges?: { starts: Float64Array; ends: Float64Array };
  segments: { offset: number; vaddr: number; filesz: number }[];
  /** Function symbols sorted by address; `name(i)` is the name of the i-th. */
  starts: Float64Array;
  sizes: Float64Array;
  name(i: number): string;
}

const MAX_SECTIONS = 4096;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;

function cstr(b: Buffer, at: number): string {
  const end = b.indexOf(0, at);
  return b.toString('latin1', at, end < 0 ? b.length : end);
}

export class ElfError extends Error {
  override name = 'ElfError';
}

/** Reads what symbolization needs from an ELF file. Throws ElfError if it is not a 64-bit little-endian ELF. */
export function readElf(read: ReadAt, maxSymbols = 2_000_000): ElfSymbols {
  const h = read(0, 64);
  if (h.length < 64 || h.readUInt32BE(0) !== 0x7f454c46) throw new ElfError('not an ELF file');
  if (h[4] !== 2 || h[5] !== 1) throw new ElfError('not a 64-bit little-endian ELF file');
  const type = h.readUInt16LE(16);
  const phoff = Number(h.readBigUInt64LE(32));
  const shoff = Number(h.readBigUInt64LE(40));
  const phnum = h.readUInt16LE(56);
  const shentsize = h.readUInt16LE(58);
  const shnum = Math.min(h.readUInt16LE(60), MAX_SECTIONS);
  const shstrndx = h.readUInt16LE(62);

  const segments: ElfSymbols['segments'] = [];
  const ph = read(phoff, phnum * 56);
  for (let i = 0; i + 56 <= ph.length; i += 56)
    if (ph.readUInt32LE(i) === 1 /* PT_LOAD */)
      segments.push({
        offset: Number(ph.readBigUInt64LE(i + 8)),
        vaddr: Number(ph.readBigUInt64LE(i + 16)),
        filesz: Number(ph.readBigUInt64LE(i + 32)),
      });

  interface Section {
    name: number;
    type: number;
    offset: number;
    size: number;
    link: number;
    entsize: number;
    flags: number;
  }
  const sh = shoff && shentsize === 64 ? read(shoff, shnum * 64) : Buffer.alloc(0);
  const sections: Section[] = [];
  for (let i = 0; i + 64 <= sh.length; i += 64)
    sections.push({
      name: sh.readUInt32LE(i),
      type: sh.readUInt32LE(i + 4),
      offset: Number(sh.readBigUInt64LE(i + 24)),
      size: Number(sh.readBigUInt64LE(i + 32)),
      link: sh.readUInt32LE(i + 40),
      entsize: Number(sh.readBigUInt64LE(i + 56)),
      flags: sh.readUInt32LE(i + 8),
    });
  const shstr = sections[shstrndx];
  const secNames = shstr ? read(shstr.offset, Math.min(shstr.size, 1 << 20)) : Buffer.alloc(0);
  const named = (s: Section) => cstr(secNames, s.name);

  let buildId: string | undefined;
  let debuglink: string | undefined;
  let hasDebugLine = false;
  let aranges: Section | undefined;
  let info: Section | undefined;
  for (const s of sections) {
    const n = named(s);
    if (n === '.note.gnu.build-id' && s.size <= 1024) {
      const note = read(s.offset, s.size);
      const namesz = note.readUInt32LE(0);
      const descsz = note.readUInt32LE(4);
      const desc = 12 + Math.ceil(namesz / 4) * 4;
      buildId = note.toString('hex', desc, desc + descsz);
    } else if (n === '.gnu_debuglink' && s.size <= 4096) debuglink = cstr(read(s.offset, s.size), 0);
    else if (n === '.debug_line' && s.type !== 8 /* SHT_NOBITS */) hasDebugLine = true;
    else if (n === '.debug_aranges') aranges = s;
    else if (n === '.debug_info') info = s;
  }

  // .symtab has every function; .dynsym only the exported ones (what a stripped file keeps).
  const symtab = sections.find((s) => s.type === 2) ?? sections.find((s) => s.type === 11);
  const table: ElfSymbols['table'] = !symtab ? 'none' : symtab.type === 2 ? 'symtab' : 'dynsym';
  // Read with 32-bit halves into typed arrays and named lazily: a large binary (node: 110k symbols, 7 MB of
  // names) would otherwise spend most of its parse on BigInts, per-symbol objects and strings never looked at.
  let n = 0;
  let starts = new Float64Array(0);
  let sizes = new Float64Array(0);
  let nameOffsets = new Uint32Array(0);
  let strtab: Buffer = Buffer.alloc(0);
  if (symtab && symtab.entsize === 24 && sections[symtab.link]) {
    const strs = sections[symtab.link];
    strtab = read(strs.offset, strs.size);
    const count = Math.min(Math.floor(symtab.size / 24), maxSymbols);
    const syms = read(symtab.offset, count * 24);
    const total = Math.floor(syms.length / 24);
    starts = new Float64Array(total);
    sizes = new Float64Array(total);
    nameOffsets = new Uint32Array(total);
    for (let i = 0; i + 24 <= syms.length; i += 24) {
      const kind = syms[i + 4] & 0xf;
      if ((kind !== STT_FUNC && kind !== STT_GNU_IFUNC) || syms.readUInt16LE(i + 6) === 0) continue;
      const start = syms.readUInt32LE(i + 8) + syms.readUInt32LE(i + 12) * 2 ** 32;
      if (start === 0) continue;
      starts[n] = start;
      sizes[n] = syms.readUInt32LE(i + 16) + syms.readUInt32LE(i + 20) * 2 ** 32;
      nameOffsets[n] = syms.readUInt32LE(i);
      n++;
    }
  }
  const order = sortedOrder(starts, n);
  const sortedStarts = new Float64Array(n);
  const sortedSizes = new Float64Array(n);
  const sortedNames = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    sortedStarts[i] = starts[order[i]];
    sortedSizes[i] = sizes[order[i]];
    sortedNames[i] = nameOffsets[order[i]];
  }
  // Only the names' bytes stay (a copy, so the buffer they were read into can go).
  const names = n ? Buffer.from(strtab) : strtab;
  return {
    kind: type === 2 ? 'exec' : type === 3 ? 'dyn' : 'other',
    buildId,
    debuglink,
    table: n ? table : 'none',
    hasDebugLine,
    lineRanges: hasDebugLine && aranges && info ? lineRangesOf(read, aranges, info) : undefined,
    segments,
    starts: sortedStarts,
    sizes: sortedSizes,
    name: (i) => cstr(names, sortedNames[i]),
  };
}

const SHT_NOBITS = 8;
const SHF_COMPRESSED = 0x800;
const MAX_UNITS = 200_000;

/** An initial length (DWARF 32 or 64-bit): the unit's length and the size of the length field. */
function unitLength(b: Buffer, at: number): [number, number] {
  const l = b.readUInt32LE(at);
  if (l !== 0xffffffff) return [l, 4];
  return [b.readUInt32LE(at + 4) + b.readUInt32LE(at + 8) * 2 ** 32, 12];
}

/**
 * .debug_aranges' address ranges, or undefined unless they are complete: a unit of .debug_info without a set in
 * .debug_aranges (or compressed sections, or anything malformed) means its addresses are unknown, and every address
 * must then be asked. Node's binary has line tables for 111 units of a 98 MB file: asking llvm-symbolizer about
 * addresses in none of them cost ~0.5 s a profile.
 */
function lineRangesOf(
  read: ReadAt,
  ar: { offset: number; size: number; type: number; flags: number },
  info: { offset: number; size: number; type: number; flags: number },
): ElfSymbols['lineRanges'] {
  if ([ar, info].some((s) => s.type === SHT_NOBITS || s.flags & SHF_COMPRESSED) || ar.size > 64 << 20)
    return undefined;
  try {
    const units = new Set<number>();
    for (let at = 0; at < info.size; ) {
      if (units.size >= MAX_UNITS) return undefined;
      const h = read(info.offset + at, 12);
      if (h.length < 12) return undefined;
      const [len, field] = unitLength(h, 0);
      if (len === 0) return undefined;
      units.add(at);
      at += field + len;
    }
    const b = read(ar.offset, ar.size);
    const starts: number[] = [];
    const ends: number[] = [];
    for (let at = 0; at + 4 <= b.length; ) {
      const [len, field] = unitLength(b, at);
      const end = at + field + len;
      if (len === 0 || end > b.length) return undefined;
      let p = at + field + 2; // version
      const unit = field === 12 ? b.readUInt32LE(p) + b.readUInt32LE(p + 4) * 2 ** 32 : b.readUInt32LE(p);
      p += field === 12 ? 8 : 4;
      const addrSize = b[p];
      const segSize = b[p + 1];
      if (addrSize !== 8 || segSize !== 0) return undefined;
      units.delete(unit);
      p += 2;
      p = at + Math.ceil((p - at) / 16) * 16; // tuples start at a multiple of twice the address size
      for (; p + 16 <= end; p += 16) {
        const start = b.readUInt32LE(p) + b.readUInt32LE(p + 4) * 2 ** 32;
        const length = b.readUInt32LE(p + 8) + b.readUInt32LE(p + 12) * 2 ** 32;
        if (start === 0 && length === 0) break;
        starts.push(start);
        ends.push(start + length);
      }
      at = end;
    }
    if (units.size > 0) return undefined;
    const order = starts.map((_, i) => i).sort((x, y) => starts[x] - starts[y]);
    return {
      starts: Float64Array.from(order, (i) => starts[i]),
      ends: Float64Array.from(order, (i) => ends[i]),
    };
  } catch {
    return undefined; // a read past the end of a malformed file
  }
}

/** Whether `vaddr` can have line information (true when the file does not say where its lines are). */
export function mayHaveLine(elf: Pick<ElfSymbols, 'hasDebugLine' | 'lineRanges'>, vaddr: number): boolean {
  if (!elf.hasDebugLine) return false;
  const r = elf.lineRanges;
  if (!r) return true;
  // Ranges may overlap (inlined or shared code): any range starting at or before vaddr may hold it.
  let lo = 0;
  let hi = r.starts.length - 1;
  if (hi < 0 || vaddr < r.starts[0]) return false;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (r.starts[mid] <= vaddr) lo = mid;
    else hi = mid - 1;
  }
  for (let i = lo; i >= 0; i--) if (vaddr < r.ends[i]) return true;
  return false;
}

/** Indexes of starts[0..n) by address (ties in table order). Addresses below 4 GiB (every shared object and most
 *  executables) sort as start·2^21 + index in one native sort, several times faster than a comparator. */
function sortedOrder(starts: Float64Array, n: number): Uint32Array {
  const order = new Uint32Array(n);
  let max = 0;
  for (let i = 0; i < n; i++) if (starts[i] > max) max = starts[i];
  if (max < 2 ** 32 && n < 2 ** 21) {
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) keys[i] = starts[i] * 2 ** 21 + i;
    keys.sort();
    for (let i = 0; i < n; i++) order[i] = keys[i] % 2 ** 21;
    return order;
  }
  for (let i = 0; i < n; i++) order[i] = i;
  return order.sort((a, b) => starts[a] - starts[b] || a - b);
}

/** The address symbols use for a byte at `fileOffset` of the file (through the PT_LOAD that maps it). */
export function offsetToVaddr(elf: Pick<ElfSymbols, 'segments'>, fileOffset: number): number | undefined {
  for (const s of elf.segments)
    if (fileOffset >= s.offset && fileOffset < s.offset + s.filesz) return fileOffset - s.offset + s.vaddr;
  return undefined;
}

/** The function containing `vaddr`: the last symbol starting at or before it, if its size covers it (or is 0). */
export function symbolAt(elf: ElfSymbols, vaddr: number): string | undefined {
  const { starts, sizes } = elf;
  let lo = 0;
  let hi = starts.length - 1;
  if (hi < 0 || vaddr < starts[0]) return undefined;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= vaddr) lo = mid;
    else hi = mid - 1;
  }
  // Several symbols can share a start (aliases); any of them names the code.
  if (sizes[lo] !== 0 && vaddr >= starts[lo] + sizes[lo]) return undefined;
  return elf.name(lo);
}
