// Per-process state in typed-array columns, one row (slot) per process, instead of one object per process.
// At 10,000 processes an object per process cost about 1 KiB in V8 — every double field a separate heap number —
// and its garbage set how large the heap grew between collections; a row of columns costs its bytes.
// Pure: no I/O.

type Column = Float64Array | Uint32Array | Int32Array | Uint8Array;
type ColumnType = { new (length: number): Column; BYTES_PER_ELEMENT: number };

/** The columns of a table, as a record of typed-array constructors (e.g. { cpuNs: Float64Array }). */
export type ColumnSpec = Record<string, ColumnType>;
export type Columns<S extends ColumnSpec> = { [K in keyof S]: InstanceType<S[K]> };

/**
 * Non-negative integer keys (tgids, below 2^31) to row numbers, by open addressing in two typed arrays: a Map,
 * looked up three times per process and window, was most of the accounting's time; this costs a tenth. Linear
 * probing; a removal shifts the entries after it back, so no tombstones build up.
 */
export class IntMap {
  private keys: Int32Array;
  private vals: Int32Array;
  private mask: number;
  size = 0;

  constructor(capacity = 64) {
    const n = 2 ** Math.ceil(Math.log2(Math.max(16, capacity * 2)));
    this.keys = new Int32Array(n).fill(-1);
    this.vals = new Int32Array(n);
    this.mask = n - 1;
  }

  /** Where `key` is or would go: a multiplicative hash, then the next free or matching slot. */
  private find(key: number): number {
    let i = Math.imul(key, 0x9e3779b1) >>> 0;
    i = (i ^ (i >>> 15)) & this.mask;
    for (;;) {
      const k = this.keys[i];
      if (k === key || k === -1) return i;
      i = (i + 1) & this.mask;
    }
  }

  get(key: number): number {
    const i = this.find(key);
    return this.keys[i] === key ? this.vals[i] : -1;
  }

  set(key: number, value: number): void {
    let i = this.find(key);
    if (this.keys[i] !== key) {
      if (2 * (this.size + 1) > this.keys.length) {
        this.grow();
        i = this.find(key);
      }
      this.keys[i] = key;
      this.size++;
    }
    this.vals[i] = value;
  }

  delete(key: number): void {
    let i = this.find(key);
    if (this.keys[i] !== key) return;
    this.size--;
    // Shift back the entries that probed past i, so every lookup still finds its key before a free slot.
    for (let j = (i + 1) & this.mask; this.keys[j] !== -1; j = (j + 1) & this.mask) {
      let home = Math.imul(this.keys[j], 0x9e3779b1) >>> 0;
      home = (home ^ (home >>> 15)) & this.mask;
      // Move j to i if its home is not cyclically within (i, j].
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        this.keys[i] = this.keys[j];
        this.vals[i] = this.vals[j];
        i = j;
      }
    }
    this.keys[i] = -1;
  }

  private grow(): void {
    const { keys, vals } = this;
    this.keys = new Int32Array(keys.length * 2).fill(-1);
    this.vals = new Int32Array(keys.length * 2);
    this.mask = this.keys.length - 1;
    this.size = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== -1) this.set(keys[i], vals[i]);
  }
}

/**
 * Rows keyed by an id (a tgid). A freed row is reused by the next new id; the columns grow by doubling and a new
 * or reused row reads as zeros. `width` gives a column several values per row (row r at r × width).
 */
export class SlotTable<S extends ColumnSpec> {
  private readonly rows = new IntMap();
  private readonly freed: number[] = [];
  private capacity: number;
  /** Rows ever handed out: every live row is below this. */
  end = 0;
  cols: Columns<S>;

  constructor(
    private readonly spec: S,
    private readonly width: Partial<Record<keyof S, number>> = {},
    capacity = 64,
  ) {
    this.capacity = capacity;
    this.cols = this.allocate(capacity);
  }

  private allocate(rows: number): Columns<S> {
    const cols = {} as Columns<S>;
    for (const k of Object.keys(this.spec) as (keyof S)[])
      cols[k] = new this.spec[k](rows * (this.width[k] ?? 1)) as Columns<S>[typeof k];
    return cols;
  }

  /** The row of `id`, or -1. */
  rowOf(id: number): number {
    return this.rows.get(id);
  }

  /** A new row for `id` (which must not have one), all zeros. It may grow the table: read `cols` again after. */
  add(id: number): number {
    let row = this.freed.pop();
    if (row === undefined) {
      if (this.end === this.capacity) this.grow();
      row = this.end++;
    } else
      for (const k of Object.keys(this.cols) as (keyof S)[]) {
        const w = this.width[k] ?? 1;
        this.cols[k].fill(0, row * w, row * w + w);
      }
    this.rows.set(id, row);
    return row;
  }

  remove(id: number): void {
    const row = this.rows.get(id);
    if (row < 0) return;
    this.rows.delete(id);
    this.freed.push(row);
  }

  get size(): number {
    return this.rows.size;
  }

  private grow(): void {
    const bigger = this.allocate(this.capacity * 2);
    for (const k of Object.keys(this.cols) as (keyof S)[]) (bigger[k] as Column).set(this.cols[k]);
    this.cols = bigger;
    this.capacity *= 2;
  }
}
