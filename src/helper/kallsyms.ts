// Kernel frame names for the on-demand profile, from /proc/kallsyms. The kernel shows real addresses (and not
// zeros) according to the credentials of whoever *opened* the file, so the helper opens it once while it is still
// root and keeps the descriptor; this module reads from that descriptor (or any other, in tests) and never lets an
// address out: callers get names only.
//
// Generating the file costs the kernel about a second of CPU on this machine (120,000 symbols), so it is read
// asynchronously, off the helper's main thread (windows keep flowing), and only the symbols of the addresses asked
// for are kept instead of a table of all of them.
import { read } from 'node:fs';

/** Kernel text addresses are 0xffff…: their low 48 bits, exact as a Number, are what is compared. */
const low48 = (addr: bigint): number => Number(addr & 0xffff_ffff_ffffn);

export interface KernelNames {
  /** False when the file showed zero addresses (the opener lacked CAP_SYSLOG, or kptr_restrict=2). */
  real: boolean;
  /** "func" or "func [module]" per address asked for; "[kernel]" when unknown. */
  names: Map<bigint, string>;
}

/** Names `addrs` from kallsyms text fed in chunks (each chunk may end mid-line). */
export class KallsymsMatcher {
  private readonly ips: number[];
  private readonly best: Float64Array;
  private readonly bestName: string[];
  private rest = '';
  private real = false;

  constructor(private readonly addrs: readonly bigint[]) {
    this.ips = [...new Set(addrs.map(low48))].sort((a, b) => a - b);
    this.best = new Float64Array(this.ips.length).fill(-1);
    this.bestName = new Array(this.ips.length).fill('[kernel]');
  }

  push(chunk: string): void {
    const text = this.rest + chunk;
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      this.line(text, start, nl);
      start = nl + 1;
    }
    this.rest = text.slice(start);
  }

  private line(text: string, at: number, end: number): void {
    // "ffffffff81000000 T _stext" or "ffffffffc0a01000 t fn\t[module]"; text symbols only.
    if (end - at < 20 || text.charCodeAt(at + 16) !== 32) return;
    const type = text[at + 17];
    if (type !== 't' && type !== 'T' && type !== 'w' && type !== 'W') return;
    const addr = Number.parseInt(text.slice(at + 4, at + 16), 16);
    if (addr !== 0) this.real = true;
    if (this.ips.length === 0 || addr > this.ips[this.ips.length - 1]) return;
    // Recorded at the first asked-for address at or above the symbol only; finish() carries each symbol forward
    // to the addresses above (one pass), so a sorted file costs one binary search per line.
    let lo = 0;
    let hi = this.ips.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ips[mid] < addr) lo = mid + 1;
      else hi = mid;
    }
    if (this.best[lo] < addr) {
      this.best[lo] = addr;
      const name = text.slice(at + 19, end);
      const tab = name.indexOf('\t');
      this.bestName[lo] = tab < 0 ? name : `${name.slice(0, tab)} ${name.slice(tab + 1)}`;
    }
  }

  finish(): KernelNames {
    if (this.rest) this.push('\n');
    const byLow = new Map<number, string>();
    let best = -1;
    let name = '[kernel]';
    this.ips.forEach((ip, i) => {
      if (this.best[i] > best) {
        best = this.best[i];
        name = this.bestName[i];
      }
      byLow.set(ip, this.real && best >= 0 ? name : '[kernel]');
    });
    return { real: this.real, names: new Map(this.addrs.map((a) => [a, byLow.get(low48(a)) ?? '[kernel]'])) };
  }
}

/** Reads kallsyms through `fd` from its start (positioned reads, in libuv's thread pool) and names `addrs`. */
export async function nameKernelAddresses(fd: number, addrs: readonly bigint[]): Promise<KernelNames> {
  const m = new KallsymsMatcher(addrs);
  const buf = Buffer.allocUnsafe(256 * 1024);
  let pos = 0;
  for (;;) {
    const n = await new Promise<number>((resolve, reject) =>
      read(fd, buf, 0, buf.length, pos, (e, got) => (e ? reject(e) : resolve(got))),
    );
    if (n <= 0) break;
    m.push(buf.toString('latin1', 0, n));
    pos += n;
  }
  return m.finish();
}
