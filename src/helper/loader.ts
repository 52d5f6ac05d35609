// Opens, loads and attaches one BPF object, enabling only the programs asked for.
// libbpf loads an object all-or-nothing, so choosing among alternative attach points means one attempt per
// candidate: enable it alone, load, attach; on failure close everything and let the caller try the next.
import { existsSync } from 'node:fs';
import { BLOCKED, EXIT_KEY, RSS_REC, SLOT, TASK_REC, WALK_STATE } from './layout';
import { errno, lib, type Ptr, strerror } from './libbpf';

export interface LoadedObject {
  obj: Ptr;
  links: Ptr[];
  map(name: string): number;
  /** The link of an enabled program (iterators are read through it). */
  link(program: string): Ptr;
  /** The fd of a program loaded but not attached (SEC("syscall"), run on demand with BPF_PROG_TEST_RUN). */
  programFd(program: string): number;
  /** Attaches a program loaded on demand; the function returned detaches it (the bench toggles on_switch). */
  attach(program: string): () => void;
  /** Detaches every link and frees the object (the kernel also does this if we die: links are fd-bound). */
  close(): void;
}

export class LoadError extends Error {
  override name = 'LoadError';
  constructor(
    message: string,
    readonly errno: number,
    /** libbpf's log for the attempt, including the verifier log when a program was rejected. */
    readonly log: string[],
    readonly stage: 'open' | 'load' | 'attach',
  ) {
    super(message);
  }
  get verifierRejected(): boolean {
    return (
      this.stage === 'load' &&
      this.log.some((l) => /BEGIN PROG LOAD LOG|processed \d+ insns|invalid|R\d+ /.test(l))
    );
  }
}

/** Collects libbpf log lines while an attempt runs (set by main through setPrintSink). */
export const libbpfLog: { lines: string[] | undefined } = { lines: undefined };

function programs(obj: Ptr): Ptr[] {
  const out: Ptr[] = [];
  for (let p = lib.nextProgram(obj, null); p; p = lib.nextProgram(obj, p)) out.push(p);
  return out;
}

/**
 * Why bpf_object__load failed, in words. libbpf returns -ESRCH ("No such process") when the kernel's BTF cannot be
 * parsed, which reads like a missing pid; its log says what really happened, so name the BTF instead.
 */
function loadFailure(rc: number, log: readonly string[]): string {
  if (
    log.some((l) =>
      /failed to find valid kernel BTF|Error loading vmlinux BTF|loading kernel BTF .*: -\d+/.test(l),
    )
  )
    return "the kernel's BTF (/sys/kernel/btf/vmlinux) is unreadable or corrupt, so the CO-RE programs cannot be relocated";
  return strerror(rc);
}

/** [key, value] bytes of the maps whose records the helper reads (or shares between objects), by map name. */
const RECORDS: Readonly<Record<string, readonly [number, number]>> = {
  task_out: [4, TASK_REC.size],
  exits: [EXIT_KEY.size, TASK_REC.size],
  rss_out: [4, RSS_REC.size],
  walk_state: [4, WALK_STATE.size],
  slots: [4, SLOT.size],
  blocked: [4, BLOCKED.size],
};

/**
 * An object whose records are not the ones the helper reads (built from other headers than its layout.ts) is
 * refused before it reaches the kernel: read at the helper's offsets, its records would be garbage.
 */
function checkRecords(obj: Ptr, file: string, log: string[]): void {
  for (const [name, [key, value]] of Object.entries(RECORDS)) {
    const m = lib.findMap(obj, name);
    if (!m) continue;
    const k = lib.keySize(m) as number;
    const v = lib.valueSize(m) as number;
    if (k !== key || v !== value)
      throw new LoadError(
        `${file}: map ${name} has ${k}-byte keys and ${v}-byte values, the helper reads ${key} and ${value}: ` +
          'the BPF objects and the helper come from different builds (rebuild both: npm run build)',
        22,
        log,
        'open',
      );
  }
}

/** Maps of an object that are another object's (name → that map's fd): the two objects then share them. */
export type Reuse = Readonly<Record<string, number>>;

/**
 * `enable` are loaded and attached; `onDemand` only loaded (run with BPF_PROG_TEST_RUN). `maxEntries` resizes maps
 * before load (map name → entries), e.g. per-TGID maps for a smaller machine; `reuse` shares maps with an object
 * already loaded.
 */
export function loadObject(
  file: string,
  enable: readonly string[],
  maxEntries: Readonly<Record<string, number>> = {},
  onDemand: readonly string[] = [],
  reuse: Reuse = {},
): LoadedObject {
  // The verifier gives up with EAGAIN when a signal is pending (libbpf retries 5 times at once); a profiler's
  // SIGPROF or a burst of SIGCHLD can outlast that, so try the whole load a few more times before failing.
  for (let attempt = 1; ; attempt++) {
    try {
      return loadObjectOnce(file, enable, maxEntries, onDemand, reuse);
    } catch (e) {
      if (!(e instanceof LoadError && e.stage === 'load' && e.errno === 11 && attempt < 4)) throw e;
    }
  }
}

function loadObjectOnce(
  file: string,
  enable: readonly string[],
  maxEntries: Readonly<Record<string, number>>,
  onDemand: readonly string[],
  reuse: Reuse,
): LoadedObject {
  const log: string[] = [];
  libbpfLog.lines = log;
  try {
    if (!existsSync(file)) throw new LoadError(`${file} is missing`, 2, log, 'open');
    const obj = lib.openFile(file, null);
    if (!obj) {
      const e = errno();
      throw new LoadError(`cannot open ${file}: ${strerror(e)}`, e, log, 'open');
    }
    try {
      checkRecords(obj, file, log);
    } catch (e) {
      lib.close(obj);
      throw e;
    }
    const progs = programs(obj);
    const byName = new Map(progs.map((p) => [lib.programName(p) as string, p]));
    for (const [name, p] of byName) lib.setAutoload(p, enable.includes(name) || onDemand.includes(name));
    for (const [name, n] of Object.entries(maxEntries)) {
      const m = lib.findMap(obj, name);
      if (!m || (lib.setMaxEntries(m, n) as number) < 0) {
        lib.close(obj);
        throw new LoadError(`cannot size map ${name} to ${n}`, 22, log, 'open');
      }
    }
    for (const [name, fd] of Object.entries(reuse)) {
      const m = lib.findMap(obj, name);
      const rc = m ? (lib.reuseFd(m, fd) as number) : -2;
      if (rc < 0) {
        lib.close(obj);
        throw new LoadError(`cannot share map ${name} of ${file}: ${strerror(rc)}`, -rc, log, 'open');
      }
    }
    const links: Ptr[] = [];
    const linkOf = new Map<string, Ptr>();
    const close = () => {
      for (const l of links.splice(0)) lib.destroyLink(l);
      lib.close(obj);
    };
    const rc = lib.load(obj) as number;
    if (rc < 0) {
      close();
      const names = [...enable, ...onDemand].join(', ');
      throw new LoadError(`loading ${names} failed: ${loadFailure(rc, log)}`, -rc, log, 'load');
    }
    for (const name of enable) {
      const p = byName.get(name);
      const link = p ? lib.attach(p) : null;
      if (!link) {
        const e = p ? errno() : 2;
        close();
        throw new LoadError(`attaching ${name} failed: ${strerror(e)}`, e, log, 'attach');
      }
      links.push(link);
      linkOf.set(name, link);
    }
    return {
      obj,
      links,
      map(name: string): number {
        const m = lib.findMap(obj, name);
        if (!m) throw new Error(`map ${name} not found in ${file}`);
        return lib.mapFd(m) as number;
      },
      link(program: string): Ptr {
        const l = linkOf.get(program);
        if (!l) throw new Error(`program ${program} is not attached`);
        return l;
      },
      programFd(program: string): number {
        const p = onDemand.includes(program) ? byName.get(program) : undefined;
        if (!p) throw new Error(`program ${program} is not loaded on demand`);
        return lib.programFd(p) as number;
      },
      attach(program: string): () => void {
        const p = onDemand.includes(program) ? byName.get(program) : undefined;
        const link = p ? lib.attach(p) : null;
        if (!link)
          throw new Error(`attaching ${program} failed: ${p ? strerror(errno()) : 'not loaded on demand'}`);
        links.push(link);
        return () => {
          const i = links.indexOf(link);
          if (i >= 0) lib.destroyLink(links.splice(i, 1)[0]);
        };
      },
      close,
    };
  } finally {
    libbpfLog.lines = undefined;
  }
}

/**
 * Loads the first of several alternatives this kernel accepts (e.g. tp_btf, then raw_tp): libbpf loads an object
 * all-or-nothing, so each alternative enables only its own programs. `use` finishes the set-up (map readers);
 * the last LoadError is thrown when none loads.
 */
export function loadFirst<A, T>(
  file: string,
  /** choice, programs to attach, programs to load only, map sizes of this alternative */
  alternatives: readonly (readonly [
    A,
    readonly string[],
    (readonly string[])?,
    Readonly<Record<string, number>>?,
  ])[],
  use: (obj: LoadedObject, choice: A) => T,
  maxEntries: Readonly<Record<string, number>> = {},
  reuse: Reuse = {},
): T {
  let last: LoadError | undefined;
  for (const [choice, programs, onDemand, sizes] of alternatives) {
    try {
      return use(loadObject(file, programs, { ...maxEntries, ...sizes }, onDemand, reuse), choice);
    } catch (e) {
      if (!(e instanceof LoadError)) throw e;
      last = e;
    }
  }
  throw last ?? new LoadError(`${file}: no alternative to load`, 0, [], 'load');
}
