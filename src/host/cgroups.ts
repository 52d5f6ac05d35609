// The cgroup table of a window: which cgroups the reported processes are in, and the limits that act on them
// (nearest memory limit and CPU quota up the path, usage and anon memory of the limiting cgroup, memory pressure,
// throttling). Shared by the root helper and the unprivileged /proc collector. Handles cgroup v2, hybrid (v1
// controllers + a v2 tree) and v1-only hosts. Every cache is bounded (least recently used goes first).
import { readFileSync } from 'node:fs';
import type { CgroupSample, Hello } from '../shared/wire/protocol';

export type CgroupMode = Hello['cgroupMode'];

/** Where a process is, per hierarchy ('' when that hierarchy is absent). */
export interface CgroupRef {
  v2: string;
  memory: string;
  cpu: string;
}

export interface CgroupMounts {
  mode: CgroupMode;
  /** Mount point of the v2 tree (the unified tree on hybrid hosts). */
  v2?: string;
  memory?: string;
  cpu?: string;
}

/** Reads /proc/self/mounts for the cgroup2 tree and the v1 memory and cpu controllers. */
export function detectMounts(mountsText?: string): CgroupMounts {
  let text = mountsText;
  if (text === undefined)
    try {
      text = readFileSync('/proc/self/mounts', 'utf8');
    } catch {
      text = '';
    }
  const m: CgroupMounts = { mode: 'none' };
  for (const line of text.split('\n')) {
    const [, dir, type, opts] = line.split(' ');
    if (!dir) continue;
    const unescaped = dir.replace(/\\040/g, ' ');
    if (type === 'cgroup2' && !m.v2) m.v2 = unescaped;
    else if (type === 'cgroup') {
      const o = opts.split(',');
      if (o.includes('memory') && !m.memory) m.memory = unescaped;
      if (o.includes('cpu') && !m.cpu) m.cpu = unescaped;
    }
  }
  const v1 = m.memory !== undefined || m.cpu !== undefined;
  m.mode = v1 ? (m.v2 ? 'hybrid' : 'v1') : m.v2 ? 'v2' : 'none';
  return m;
}

/** Parses /proc/<pid>/cgroup ("hierarchy-id:controllers:path" per line). */
export function parseProcCgroup(text: string): CgroupRef {
  const ref: CgroupRef = { v2: '', memory: '', cpu: '' };
  for (const line of text.split('\n')) {
    const a = line.indexOf(':');
    const b = line.indexOf(':', a + 1);
    if (a < 0 || b < 0) continue;
    const ctrl = line.slice(a + 1, b).split(',');
    const p = line.slice(b + 1);
    if (line.startsWith('0::')) ref.v2 = p;
    if (ctrl.includes('memory')) ref.memory = p;
    if (ctrl.includes('cpu')) ref.cpu = p;
  }
  return ref;
}

/** A Map that forgets its least recently used entries beyond `max`. */
export class Lru<K, V> {
  private readonly m = new Map<K, V>();
  constructor(private readonly max: number) {}
  get(k: K): V | undefined {
    const v = this.m.get(k);
    if (v !== undefined) {
      this.m.delete(k);
      this.m.set(k, v);
    }
    return v;
  }
  set(k: K, v: V): void {
    this.m.delete(k);
    this.m.set(k, v);
    if (this.m.size > this.max) this.m.delete(this.m.keys().next().value as K);
  }
  get size(): number {
    return this.m.size;
  }
}

/** v1 "no limit": LONG_MAX rounded down to a page, or anything that large (≥ 2^62). */
const V1_UNLIMITED = 2 ** 62;

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'latin1');
  } catch {
    return undefined;
  }
}

/** Parent paths from the cgroup itself up to (not including) the root: "/a/b" → ["/a/b", "/a"]. */
function upward(path: string): string[] {
  const out: string[] = [];
  for (let p = path; p && p !== '/'; p = p.slice(0, Math.max(0, p.lastIndexOf('/')))) out.push(p);
  return out;
}

/** Kernel-made paths are absolute and have no dot segments; anything else is not read. */
const safePath = (p: string) => p.startsWith('/') && !/(^|\/)\.\.?(\/|$)/.test(p) && p.length < 4096;

interface Limit {
  value: number;
  path: string;
}

/** A cgroup with no memory limit, no CPU quota and no throttling: what a sample starts from before its files are read. */
export function unlimitedCgroup(path: string): CgroupSample {
  return {
    path,
    memLimitBytes: null,
    memLimitPath: null,
    memUsageBytes: null,
    memAnonBytes: null,
    memPressure: null,
    memRefaults: null,
    cpuQuotaPercent: null,
    cpuQuotaPath: null,
    throttledNs: 0,
    nrThrottled: 0,
    nrPeriods: 0,
  };
}

export interface CgroupTableOptions {
  mounts?: CgroupMounts;
  /** How long limits (memory.max, cpu.max) are trusted before being read again. */
  limitTtlMs?: number;
  /** Bound of each cache. */
  maxEntries?: number;
  now?: () => number;
}

export class CgroupTable {
  readonly mounts: CgroupMounts;
  private readonly ttl: number;
  private readonly now: () => number;
  /** Per directory: its own limit file's value (null = none) and when it was read. */
  private readonly memLimits: Lru<string, { v: number | null; at: number }>;
  private readonly cpuQuotas: Lru<string, { v: number | null; at: number }>;
  /** Per quota cgroup: the cumulative throttling counters at the previous window. */
  private readonly throttle: Lru<string, { ns: number; n: number; periods: number }>;
  /** Per memory-limited cgroup: its cumulative refaults, the window they were read in and that window's delta. */
  private readonly refaults: Lru<string, { count: number; win: number; delta: number | null }>;
  private win = 0;
  private window = new Map<string, number>();
  private byRef = new Map<CgroupRef, number>();
  private refs: CgroupRef[] = [];

  constructor(opts: CgroupTableOptions = {}) {
    this.mounts = opts.mounts ?? detectMounts();
    this.ttl = opts.limitTtlMs ?? 10_000;
    this.now = opts.now ?? Date.now;
    const max = opts.maxEntries ?? 4096;
    this.memLimits = new Lru(max);
    this.cpuQuotas = new Lru(max);
    this.throttle = new Lru(max);
    this.refaults = new Lru(max);
  }

  get mode(): CgroupMode {
    return this.mounts.mode;
  }

  /** Entries held across windows (each cache is bounded by maxEntries). */
  get cached(): number {
    return this.memLimits.size + this.cpuQuotas.size + this.throttle.size + this.refaults.size;
  }

  /** Index of `ref` in this window's table (the same cgroup gets the same index within a window). */
  indexOf(ref: CgroupRef): number {
    // Refs from a CgroupResolver are interned, so identity is the fast path; equal copies still share a row.
    let i = this.byRef.get(ref);
    if (i !== undefined) return i;
    const key = `${ref.v2}\0${ref.memory}\0${ref.cpu}`;
    i = this.window.get(key);
    if (i === undefined) {
      i = this.refs.length;
      this.refs.push(ref);
      this.window.set(key, i);
    }
    this.byRef.set(ref, i);
    return i;
  }

  /** The table for the window (in index order), then a fresh table for the next one. */
  take(): CgroupSample[] {
    const perWindow = new Map<string, string | undefined>();
    const read = (file: string) => {
      if (!perWindow.has(file)) perWindow.set(file, readText(file));
      return perWindow.get(file);
    };
    const out = this.refs.map((r) => this.sample(r, read));
    this.window = new Map();
    this.byRef = new Map();
    this.refs = [];
    this.win++;
    return out;
  }

  private sample(ref: CgroupRef, read: (f: string) => string | undefined): CgroupSample {
    const { mounts } = this;
    const v1 = mounts.mode === 'hybrid' || mounts.mode === 'v1';
    const memRoot = v1 ? mounts.memory : mounts.v2;
    const memPath = v1 ? ref.memory : ref.v2;
    const cpuRoot = v1 ? mounts.cpu : mounts.v2;
    const cpuPath = v1 ? ref.cpu : ref.v2;
    const out = unlimitedCgroup(displayPath(mounts.mode, ref));
    if (memRoot && safePath(memPath)) {
      const lim = this.nearest(this.memLimits, memRoot, memPath, (dir) => {
        const t = read(`${dir}/${v1 ? 'memory.limit_in_bytes' : 'memory.max'}`)?.trim();
        const n = t === undefined || t === 'max' ? Number.NaN : Number(t);
        return Number.isFinite(n) && n < V1_UNLIMITED ? n : null;
      });
      if (lim) {
        out.memLimitBytes = lim.value;
        out.memLimitPath = lim.path;
        const dir = `${memRoot}${lim.path}`;
        const usage = Number(read(`${dir}/${v1 ? 'memory.usage_in_bytes' : 'memory.current'}`)?.trim());
        out.memUsageBytes = Number.isFinite(usage) ? usage : null;
        const stat = read(`${dir}/memory.stat`);
        out.memAnonBytes = anonOf(stat, v1);
        out.memRefaults = this.refaultsOf(lim.path, refaultsOf(stat, v1));
      }
    }
    if (mounts.v2 && safePath(ref.v2) && ref.v2 !== '/') {
      const m = /^some avg10=([\d.]+)/m.exec(read(`${mounts.v2}${ref.v2}/memory.pressure`) ?? '');
      if (m) out.memPressure = Math.min(100, Number(m[1]));
    }
    if (cpuRoot && safePath(cpuPath)) {
      const q = this.nearest(this.cpuQuotas, cpuRoot, cpuPath, (dir) => quotaPercent(dir, v1, read));
      if (q) {
        out.cpuQuotaPercent = q.value;
        out.cpuQuotaPath = q.path;
        const stat = read(`${cpuRoot}${q.path}/cpu.stat`) ?? '';
        const field = (k: string) => Number(new RegExp(`^${k} (\\d+)`, 'm').exec(stat)?.[1] ?? 0);
        const now = {
          ns: v1 ? field('throttled_time') : field('throttled_usec') * 1000,
          n: field('nr_throttled'),
          periods: field('nr_periods'),
        };
        const before = this.throttle.get(q.path);
        this.throttle.set(q.path, now);
        if (before) {
          out.throttledNs = Math.max(0, now.ns - before.ns);
          out.nrThrottled = Math.max(0, now.n - before.n);
          out.nrPeriods = Math.max(0, now.periods - before.periods);
        }
      }
    }
    return out;
  }

  /**
   * Refaults of a limited cgroup during this window: the change of its cumulative count since the previous window
   * (null on the first), the same for every process of the window under that limit.
   */
  private refaultsOf(path: string, count: number | null): number | null {
    if (count === null) return null;
    const before = this.refaults.get(path);
    if (before?.win === this.win) return before.delta;
    const delta = before && before.win === this.win - 1 ? Math.max(0, count - before.count) : null;
    this.refaults.set(path, { count, win: this.win, delta });
    return delta;
  }

  /** The nearest ancestor (self included) with a limit, using per-directory values younger than the TTL. */
  private nearest(
    cache: Lru<string, { v: number | null; at: number }>,
    root: string,
    path: string,
    readOne: (dir: string) => number | null,
  ): Limit | undefined {
    const now = this.now();
    for (const p of upward(path)) {
      const key = `${root}${p}`;
      let hit = cache.get(key);
      if (!hit || now - hit.at > this.ttl) {
        hit = { v: readOne(key), at: now };
        cache.set(key, hit);
      }
      if (hit.v !== null) return { value: hit.v, path: p };
    }
    return undefined;
  }
}

/** v2 path; on v1 hosts, and on hybrid hosts whose v2 tree is unused ("/"), the memory (else cpu) path. */
function displayPath(mode: CgroupMode, ref: CgroupRef): string {
  if (mode === 'v2' || mode === 'none') return ref.v2;
  if (mode === 'hybrid' && ref.v2 && ref.v2 !== '/') return ref.v2;
  return ref.memory || ref.cpu || ref.v2;
}

function anonOf(stat: string | undefined, v1: boolean): number | null {
  if (stat === undefined) return null;
  const field = (k: string) => {
    const m = new RegExp(`^${k} (\\d+)`, 'm').exec(stat);
    return m ? Number(m[1]) : undefined;
  };
  const anon = field(v1 ? 'total_rss' : 'anon');
  const shmem = field(v1 ? 'total_shmem' : 'shmem');
  return anon === undefined ? null : anon + (shmem ?? 0);
}

/**
 * Pages read back after reclaim had evicted them (workingset refaults, file + anon) so far, from memory.stat:
 * hierarchical on v2, the total_ fields on v1. Null when the kernel does not say.
 */
function refaultsOf(stat: string | undefined, v1: boolean): number | null {
  if (stat === undefined) return null;
  const pre = v1 ? 'total_' : '';
  const field = (k: string) => new RegExp(`^${pre}${k} (\\d+)$`, 'm').exec(stat)?.[1];
  const file = field('workingset_refault_file');
  if (file === undefined) return null;
  return Number(file) + Number(field('workingset_refault_anon') ?? 0);
}

/** A directory's own CPU quota in % of one core, null without one. */
function quotaPercent(dir: string, v1: boolean, read: (f: string) => string | undefined): number | null {
  if (v1) {
    const quota = Number(read(`${dir}/cpu.cfs_quota_us`)?.trim());
    const period = Number(read(`${dir}/cpu.cfs_period_us`)?.trim());
    return quota > 0 && period > 0 ? (quota / period) * 100 : null;
  }
  const [q, p] = (read(`${dir}/cpu.max`) ?? 'max').trim().split(' ');
  const quota = Number(q);
  const period = Number(p);
  return q !== 'max' && quota > 0 && period > 0 ? (quota / period) * 100 : null;
}

/**
 * Which cgroup each process is in. /proc/<pid>/cgroup is read when a process is first seen and again only when
 * its cgroup key changes (the BPF collector's css_set pointer; the /proc collector re-reads every few windows), so a
 * process moved to another cgroup shows there the next window. Holds only the processes of the last window.
 */
export class CgroupResolver {
  private known = new Map<number, { startNs: number; key: number; ref: CgroupRef }>();
  private next = new Map<number, { startNs: number; key: number; ref: CgroupRef }>();
  /** /proc/<pid>/cgroup text → one shared CgroupRef, so processes of one cgroup share an object. */
  private readonly interned = new Lru<string, CgroupRef>(4096);

  constructor(private readonly readProc = (pid: number) => readText(`/proc/${pid}/cgroup`)) {}

  refOf(tgid: number, startNs: number, key: number): CgroupRef {
    const hit = this.known.get(tgid) ?? this.next.get(tgid);
    let entry = hit && hit.startNs === startNs && hit.key === key ? hit : undefined;
    if (!entry) {
      const text = this.readProc(tgid) ?? '';
      let ref = this.interned.get(text);
      if (!ref) {
        ref = parseProcCgroup(text);
        this.interned.set(text, ref);
      }
      entry = { startNs, key, ref };
    }
    this.next.set(tgid, entry);
    return entry.ref;
  }

  /** Call at the end of each window: processes not asked about in it are forgotten. */
  endWindow(): void {
    this.known = this.next;
    this.next = new Map();
  }

  get size(): number {
    return this.known.size;
  }
}
