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
 * Rows keyed by an id (a tgid). A freed row is reused by the next new id; the columns grow by doubling and a new
 * or reused row reads as zeros. `width` gives a column several values per row (row r at r × width).
 */
export class SlotTable<S extends ColumnSpec> {
  private readonly rows = new Map<number, number>();
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
    return this.rows.get(id) ?? -1;
  }

  /** A new row for `id` (which must not have one), all zeros. */
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
    if (row === undefined) return;
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
