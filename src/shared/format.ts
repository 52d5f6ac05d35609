// One way to write each unit, shared by the CLI, the tree, the status bar, tooltips and the dashboard.
// Pure: no vscode, no I/O. CPU is always "% of one core" (like top/htop: 200 % = two cores busy); bytes are
// always binary units (KiB, MiB, GiB) with up to three significant digits; durations are rounded for reading.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** 3 significant digits at most, no trailing ".0": 1.25, 12.5, 125. */
function sig3(v: number): string {
  const a = Math.abs(v);
  const s = a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** 1342177280 → "1.25 GiB"; 0 → "0 B". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '?';
  let v = Math.abs(bytes);
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  if (u > 0 && Number(sig3(v)) >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${bytes < 0 ? '-' : ''}${u === 0 ? String(Math.round(v)) : sig3(v)} ${UNITS[u]}`;
}

/** Signed rate: "+33 MiB/s", "-1.5 GiB/s". */
export function formatBytesRate(bytesPerSec: number): string {
  return `${bytesPerSec >= 0 ? '+' : '-'}${formatBytes(Math.abs(bytesPerSec))}/s`;
}

/** Percent of one core, compact: 157.3 → "157%", 4.25 → "4.3%", 0.04 → "0%". */
export function formatCpu(pctOfCore: number): string {
  if (!Number.isFinite(pctOfCore)) return '?';
  const a = Math.abs(pctOfCore);
  return `${a >= 10 || a < 0.05 ? pctOfCore.toFixed(0) : pctOfCore.toFixed(1)}%`;
}

/** Percent of something other than a core (a share of time, of a limit): 62.4 → "62%", 3.14 → "3.1%". */
export function formatPercent(pct: number): string {
  return formatCpu(pct);
}

/** Event counts and rates: 950 → "950", 20400 → "20.4k", 3.2e6 → "3.2M". */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '?';
  const a = Math.abs(n);
  if (a < 1000) return a >= 10 || Number.isInteger(n) ? n.toFixed(0) : n.toFixed(1);
  if (a < 1e6) return `${sig3(n / 1e3)}k`;
  if (a < 1e9) return `${sig3(n / 1e6)}M`;
  return `${sig3(n / 1e9)}G`;
}

/** Seconds for reading: 14.2 → "14 s", 130 → "2 min", 5400 → "1.5 h". */
export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec)) return '?';
  if (sec < 90) return `${Math.max(1, Math.round(sec))} s`;
  if (sec < 5400) return `${Math.round(sec / 60)} min`;
  if (sec < 172800) return `${(sec / 3600).toFixed(1)} h`;
  return `${Math.round(sec / 86400)} d`;
}

/**
 * Removes what must never reach a terminal or a UI label from text that came from outside (process names,
 * command lines, cgroup paths, replay files): C0 and C1 controls, DEL, and Unicode bidi/formatting overrides
 * (which can make a name read as something else). Tabs and newlines become spaces.
 */
export function plainText(s: string): string {
  return (
    s
      .replace(/[\t\n\r]/g, ' ')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
      .replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]/g, '')
  );
}

/**
 * v.toFixed(digits) for digits 0..2, without the runtime call: summaries are built for every process every window
 * (toFixed was most of their cost). Falls back to toFixed outside the fast range.
 */
export function fixed(v: number, digits: 0 | 1 | 2): string {
  const scale = digits === 0 ? 1 : digits === 1 ? 10 : 100;
  const r = Math.round(v * scale);
  if (!(v >= 0) || r >= 2 ** 31) return v.toFixed(digits);
  if (digits === 0) return String(r);
  const int = (r / scale) | 0;
  const frac = r - int * scale;
  return `${int}.${digits === 2 && frac < 10 ? '0' : ''}${frac}`;
}

/** "pressure: cpu 3% · memory 12% · io 0%" (PSI some avg10), or '' when the kernel has no PSI. */
export function pressureText(p: { cpu: number; memory: number; io: number } | undefined): string {
  return p ? `pressure: cpu ${fixed(p.cpu, 0)}% · memory ${fixed(p.memory, 0)}% · io ${fixed(p.io, 0)}%` : '';
}
