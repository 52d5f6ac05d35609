// View filters shared by the CLI and the extension, applied after classification (as the reference does). Pure.
import type { Diagnosis } from '../diagnosis/model';

/**
 * Kernel threads, as the kernel flags them (PF_KTHREAD in the protocol's `kthread`): a name says nothing — a user
 * process may call itself kworker/…, and kernel threads such as kdamond or jbd2 match no list of prefixes.
 */
export function isKernelThread(d: Pick<Diagnosis, 'tgid' | 'kthread'>): boolean {
  return d.tgid === 0 || d.kthread;
}

/** Case-insensitive substring match on the cgroup path (which includes the leaf name the reference matched). */
export function matchesCgroup(cgroup: string, filter: string): boolean {
  return cgroup.toLowerCase().includes(filter.toLowerCase());
}

export function isExcluded(p: { tgid: number; comm: string }, exclude: readonly string[]): boolean {
  const c = p.comm.toLowerCase();
  return exclude.some((e) => e === String(p.tgid) || e.toLowerCase() === c);
}

/** An `--exclude` value ("a, 42,b") as the names and pids isExcluded() takes. */
export function excludeList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
