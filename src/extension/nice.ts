// A process's nice value, for the row that must tell two identical loops apart. vscode-free.
import { readFileSync } from 'node:fs';

/** Field 19 of /proc/<pid>/stat, or undefined when the process is gone. */
export function readNice(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const nice = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    return Number.isInteger(nice) ? nice : undefined;
  } catch {
    return undefined;
  }
}
