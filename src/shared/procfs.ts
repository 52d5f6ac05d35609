// Small, allocation-light readers of /proc shared by the CLI and the extension (not by the pure modules).
import { readFileSync } from 'node:fs';

/** Parent pid from /proc/<pid>/stat (the comm field may contain spaces and parentheses). */
export function readPpid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ', 2)[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/** The cgroup v2 path of a process ("/user.slice/…"), '' when unknown or gone. */
export function readCgroup(pid: number): string {
  try {
    const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('0::'));
    return line ? line.slice(3) : '';
  } catch {
    return '';
  }
}
