// /proc/<pid>/maps and perf map text (/tmp/perf-<pid>.map), parsed. Pure.

export interface Mapping {
  start: number;
  end: number;
  /** Offset in the file of `start`. */
  offset: number;
  exec: boolean;
  /** File path, a pseudo name ([vdso], [heap], …), or '' for anonymous memory (where JIT code lives). */
  path: string;
  inode: number;
}

/** "55d0c0a00000-55d0c0a21000 r-xp 00001000 fe:01 1234  /usr/bin/x" lines. Deleted files keep their path. */
export function parseMaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) \S+ (\d+)\s*(.*)$/.exec(line);
    if (!m) continue;
    out.push({
      start: Number.parseInt(m[1], 16),
      end: Number.parseInt(m[2], 16),
      exec: m[3][2] === 'x',
      offset: Number.parseInt(m[4], 16),
      inode: Number(m[5]),
      path: m[6].replace(/ \(deleted\)$/, ''),
    });
  }
  return out.sort((a, b) => a.start - b.start);
}

export function mappingAt(maps: readonly Mapping[], addr: number): Mapping | undefined {
  let lo = 0;
  let hi = maps.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const m = maps[mid];
    if (addr < m.start) hi = mid - 1;
    else if (addr >= m.end) lo = mid + 1;
    else return m;
  }
  return undefined;
}

/** Merges snapshots of one process's maps, later ones first, so code unmapped since an earlier one still resolves. */
export function mergeMaps(newest: readonly Mapping[], older: readonly Mapping[]): Mapping[] {
  const out = [...newest];
  for (const m of older) if (!newest.some((n) => n.start < m.end && m.start < n.end)) out.push(m);
  return out.sort((a, b) => a.start - b.start);
}

export interface PerfMap {
  starts: Float64Array;
  ends: Float64Array;
  names: string[];
}

/** "START SIZE name" in hex, one per line, as V8 (--perf-basic-prof*), the JVM agents and Python 3.12 write. */
export function parsePerfMap(text: string): PerfMap {
  const rows: [number, number, string][] = [];
  for (const line of text.split('\n')) {
    const m = /^(?:0x)?([0-9a-fA-F]+)\s+(?:0x)?([0-9a-fA-F]+)\s(.*)$/.exec(line);
    if (!m) continue;
    const start = Number.parseInt(m[1], 16);
    rows.push([start, start + Number.parseInt(m[2], 16), m[3]]);
  }
  // Later entries win for the same address (code moved or re-optimized): a stable sort keeps file order.
  rows.sort((a, b) => a[0] - b[0]);
  return {
    starts: Float64Array.from(rows, (r) => r[0]),
    ends: Float64Array.from(rows, (r) => r[1]),
    names: rows.map((r) => r[2]),
  };
}

export function perfMapAt(map: PerfMap, addr: number): string | undefined {
  let lo = 0;
  let hi = map.starts.length - 1;
  if (hi < 0 || addr < map.starts[0]) return undefined;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (map.starts[mid] <= addr) lo = mid;
    else hi = mid - 1;
  }
  // Among entries starting at the same address the last written is the current code.
  while (lo + 1 < map.starts.length && map.starts[lo + 1] === map.starts[lo]) lo++;
  return addr < map.ends[lo] ? map.names[lo] : undefined;
}

export interface JsFrame {
  name: string;
  file?: string;
  line?: number;
  column?: number;
  /** '*' optimized, '~' interpreted (V8's marks), '' when none. */
  tier: string;
}

/**
 * V8's perf map names: "JS:*fib /home/u/bench.js:12:20", "JS:~ /home/u/bench.js:1:1" (an anonymous function),
 * "LazyCompile:*fib file:12:20" (older Node), "Builtin:ArrayMap", "Function:~fib …", "Script:~ …".
 * Returns undefined for names that are not V8 JavaScript frames.
 */
export function parseV8Name(raw: string): JsFrame | undefined {
  const m = /^(?:JS|LazyCompile|Function|Script|Eval):([*~^+-]?)(.*)$/.exec(raw);
  if (!m) return undefined;
  const rest = m[2];
  // The name has no space (V8 writes "" for anonymous functions); the script path may have some.
  const loc = /^(\S*) (.+?):(\d+)(?::(\d+))?$/.exec(rest);
  if (!loc) return { name: rest.trim() || '(anonymous)', tier: m[1] };
  let file = loc[2];
  if (file.startsWith('file://')) file = decodeURIComponent(file.slice('file://'.length));
  return {
    name: loc[1].trim() || '(anonymous)',
    file,
    line: Number(loc[3]),
    column: loc[4] === undefined ? undefined : Number(loc[4]),
    tier: m[1],
  };
}
