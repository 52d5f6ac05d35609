// Reading BPF maps from the helper: batch drains of per-TGID hashes (one syscall per ~bucket run instead of
// three per entry), with a per-entry fallback for kernels without batch ops, and per-CPU array reads.
import { batchOpts, lib, strerror } from './libbpf';

const ENOENT = 2;
const BATCH_UNSUPPORTED = new Set([22 /* EINVAL */, 95 /* EOPNOTSUPP */, 524 /* ENOTSUPP */]);

export interface Entries {
  keys: Buffer;
  values: Buffer;
  count: number;
}

/** A hash map read in bulk, optionally deleting what it read (read-and-reset). Buffers are reused across reads. */
export class HashReader {
  private readonly keys: Buffer;
  private readonly values: Buffer;
  private readonly token: Buffer;
  private readonly tokenNext: Buffer;
  private readonly count = Buffer.alloc(4);
  private readonly opts = batchOpts();
  static batchSupported = true;

  constructor(
    private readonly fd: number,
    private readonly keySize: number,
    private readonly valueSize: number,
    private readonly capacity: number,
  ) {
    this.keys = Buffer.alloc(keySize * capacity);
    this.values = Buffer.alloc(valueSize * capacity);
    this.token = Buffer.alloc(Math.max(8, keySize));
    this.tokenNext = Buffer.alloc(Math.max(8, keySize));
  }

  read(drain: boolean): Entries {
    if (HashReader.batchSupported) {
      const r = this.readBatch(drain);
      if (r) return r;
      HashReader.batchSupported = false;
    }
    return this.readOneByOne(drain);
  }

  private readBatch(drain: boolean): Entries | undefined {
    const fn = drain ? lib.lookupAndDeleteBatch : lib.lookupBatch;
    let total = 0;
    for (let first = true; total < this.capacity; first = false) {
      this.count.writeUInt32LE(this.capacity - total);
      const rc = fn(
        this.fd,
        first ? null : this.token,
        this.tokenNext,
        this.keys.subarray(total * this.keySize),
        this.values.subarray(total * this.valueSize),
        this.count,
        this.opts,
      ) as number;
      total += this.count.readUInt32LE();
      if (rc === -ENOENT) break; // done; this last call may still have returned entries
      if (rc < 0) {
        if (first && BATCH_UNSUPPORTED.has(-rc)) return undefined;
        throw new Error(`reading map fd ${this.fd}: ${strerror(rc)}`);
      }
      this.tokenNext.copy(this.token);
    }
    return { keys: this.keys, values: this.values, count: total };
  }

  private readOneByOne(drain: boolean): Entries {
    const key = Buffer.alloc(this.keySize);
    const next = Buffer.alloc(this.keySize);
    let total = 0;
    let rc = lib.getNextKey(this.fd, null, next) as number;
    while (rc === 0 && total < this.capacity) {
      next.copy(key);
      rc = lib.getNextKey(this.fd, key, next) as number; // advance before a delete invalidates `key`
      if (lib.lookupElem(this.fd, key, this.values.subarray(total * this.valueSize)) === 0) {
        key.copy(this.keys, total * this.keySize);
        total++;
        if (drain) lib.deleteElem(this.fd, key);
      }
    }
    return { keys: this.keys, values: this.values, count: total };
  }
}

/** Reads key 0..n-1 of a per-CPU array: one value per possible CPU, each padded to 8 bytes. */
export class PerCpuArrayReader {
  readonly stride: number;
  private readonly buf: Buffer;
  private readonly key = Buffer.alloc(4);

  constructor(
    private readonly fd: number,
    valueSize: number,
    readonly ncpu: number,
  ) {
    this.stride = Math.ceil(valueSize / 8) * 8;
    this.buf = Buffer.alloc(this.stride * ncpu);
  }

  /** Returns a buffer holding CPU i's value at offset i × stride (valid until the next read). */
  read(index: number): Buffer {
    this.key.writeUInt32LE(index);
    const rc = lib.lookupElem(this.fd, this.key, this.buf) as number;
    if (rc < 0) throw new Error(`reading per-CPU map fd ${this.fd}: ${strerror(rc)}`);
    return this.buf;
  }

  /** A per-CPU u64 counter summed over CPUs (e.g. a drop count). */
  sum(index: number): number {
    const buf = this.read(index);
    let n = 0;
    for (let c = 0; c < this.ncpu; c++)
      n += buf.readUInt32LE(c * this.stride) + buf.readUInt32LE(c * this.stride + 4) * 4294967296;
    return n;
  }
}
