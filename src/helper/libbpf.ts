// The libbpf.so.1 and libc functions the helper needs, bound with koffi (no native addon of ours).
// libbpf ≥ 1.0 conventions: int APIs return -errno; pointer APIs return NULL and set errno.
// koffi 3: pointers are opaque values (BigInt-like), NULL is `null`; it does not type-check them, so every
// pointer we pass comes straight from libbpf.
import koffi from 'koffi';

export type Ptr = unknown;

export class LibbpfMissing extends Error {
  override name = 'LibbpfMissing';
}

function loadLib(name: string) {
  try {
    return koffi.load(name);
  } catch (e) {
    throw new LibbpfMissing(`${name}: ${(e as Error).message}`);
  }
}

const libc = koffi.load('libc.so.6');
const libbpf = loadLib('libbpf.so.1');

for (const t of ['bpf_object', 'bpf_program', 'bpf_map', 'bpf_link']) koffi.opaque(t);

// libbpf's print callback gets a va_list; on x86-64 that is a pointer-sized handle we forward to vsnprintf.
const PrintFn = koffi.proto('int libbpf_print_fn(int level, const char *fmt, void *ap)');
const setPrint = libbpf.func('void *libbpf_set_print(libbpf_print_fn *fn)');
const vsnprintf = libc.func('int vsnprintf(char *buf, size_t size, const char *fmt, void *ap)');

export const lib = {
  openFile: libbpf.func('bpf_object *bpf_object__open_file(const char *path, const void *opts)'),
  load: libbpf.func('int bpf_object__load(bpf_object *obj)'),
  close: libbpf.func('void bpf_object__close(bpf_object *obj)'),
  nextProgram: libbpf.func('bpf_program *bpf_object__next_program(const bpf_object *obj, bpf_program *prev)'),
  programName: libbpf.func('const char *bpf_program__name(const bpf_program *prog)'),
  setAutoload: libbpf.func('int bpf_program__set_autoload(bpf_program *prog, bool autoload)'),
  attach: libbpf.func('bpf_link *bpf_program__attach(const bpf_program *prog)'),
  destroyLink: libbpf.func('int bpf_link__destroy(bpf_link *link)'),
  linkFd: libbpf.func('int bpf_link__fd(const bpf_link *link)'),
  /** A new pass of an iterator link: read() the returned fd to its end, then close it. */
  iterCreate: libbpf.func('int bpf_iter_create(int link_fd)'),
  programFd: libbpf.func('int bpf_program__fd(const bpf_program *prog)'),
  /** Runs a loaded program once (SEC("syscall") programs: the sample_rss walk). */
  testRun: libbpf.func('int bpf_prog_test_run_opts(int prog_fd, void *opts)'),
  findMap: libbpf.func('bpf_map *bpf_object__find_map_by_name(const bpf_object *obj, const char *name)'),
  mapFd: libbpf.func('int bpf_map__fd(const bpf_map *map)'),
  setMaxEntries: libbpf.func('int bpf_map__set_max_entries(bpf_map *map, uint32_t max_entries)'),
  valueSize: libbpf.func('uint32_t bpf_map__value_size(const bpf_map *map)'),
  keySize: libbpf.func('uint32_t bpf_map__key_size(const bpf_map *map)'),
  /** Before load: the map is this existing one (an fd of another object's map) instead of a new one. */
  reuseFd: libbpf.func('int bpf_map__reuse_fd(bpf_map *map, int fd)'),
  numPossibleCpus: libbpf.func('int libbpf_num_possible_cpus(void)'),
  lookupElem: libbpf.func('int bpf_map_lookup_elem(int fd, const void *key, void *value)'),
  deleteElem: libbpf.func('int bpf_map_delete_elem(int fd, const void *key)'),
  getNextKey: libbpf.func('int bpf_map_get_next_key(int fd, const void *key, void *next_key)'),
  lookupBatch: libbpf.func(
    'int bpf_map_lookup_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values, void *count, const void *opts)',
  ),
  lookupAndDeleteBatch: libbpf.func(
    'int bpf_map_lookup_and_delete_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values, void *count, const void *opts)',
  ),
  strerror: libc.func('const char *strerror(int errnum)'),
  mmap: libc.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, long offset)'),
  munmap: libc.func('int munmap(void *addr, size_t length)'),
  prctl: libc.func(
    'int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)',
  ),
  getppid: libc.func('int getppid(void)'),
  mallopt: libc.func('int mallopt(int param, int value)'),
  /** Returns the heap's free pages to the kernel, wherever they are (not only at its top). */
  mallocTrim: libc.func('int malloc_trim(size_t pad)'),
};

/** mallopt's M_MMAP_THRESHOLD: allocations from this size up get their own mapping, unmapped when freed. */
export const M_MMAP_THRESHOLD = -3;

export const errno = (): number => koffi.errno();
export const strerror = (err: number): string => lib.strerror(Math.abs(err)) as string;

/** struct bpf_map_batch_opts { size_t sz; __u64 elem_flags; __u64 flags; } */
export function batchOpts(): Buffer {
  const b = Buffer.alloc(24);
  b.writeBigUInt64LE(24n, 0);
  return b;
}

/** struct bpf_test_run_opts, all zero but sz: no data, no context, one run. */
export function testRunOpts(): Buffer {
  const b = Buffer.alloc(80);
  b.writeBigUInt64LE(80n, 0);
  return b;
}

/**
 * A BPF_F_MMAPABLE map's memory in ours (read-only unless `writable`): what BPF programs wrote is read where it
 * lies, without a syscall or a copy. The ArrayBuffer must not be touched after unmap().
 */
export function mapShared(
  fd: number,
  bytes: number,
  writable = false,
): { memory: ArrayBuffer; unmap(): void } {
  const PROT_READ = 1;
  const PROT_WRITE = 2;
  const MAP_SHARED = 1;
  const length = Math.ceil(bytes / 4096) * 4096;
  const prot = writable ? PROT_READ | PROT_WRITE : PROT_READ;
  const at = lib.mmap(null, length, prot, MAP_SHARED, fd, 0) as bigint | null;
  if (at === null || at === 0xffffffffffffffffn)
    throw new Error(`mmap of map fd ${fd}: ${strerror(errno())}`);
  let mapped = true;
  return {
    memory: koffi.view(at, length),
    unmap() {
      if (mapped) lib.munmap(at, length);
      mapped = false;
    },
  };
}

let printer: unknown;
/** Routes libbpf's log lines (including the verifier log) to `sink`. */
export function setPrintSink(sink: (level: number, line: string) => void): void {
  const buf = Buffer.alloc(16384);
  printer = koffi.register((level: number, fmt: string, ap: unknown) => {
    const n = vsnprintf(buf, buf.length, fmt, ap) as number;
    sink(level, buf.toString('utf8', 0, Math.max(0, Math.min(n, buf.length - 1))));
    return 0;
  }, koffi.pointer(PrintFn));
  setPrint(printer);
}
