// Small, allocation-light readers of /proc shared by the CLI and the extension (not by the pure modules).
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

const scratch = Buffer.allocUnsafe(4096);

/**
 * A small /proc file (stat, statm) as latin1 text: open + one read + close into a reused buffer. readFileSync
 * adds an fstat and a fresh buffer per call, which showed up with thousands of processes per window.
 */
export function readSmallProcFile(file: string): string {
  const fd = openSync(file, 'r');
  try {
    return scratch.toString('latin1', 0, readSync(fd, scratch, 0, scratch.length, 0));
  } finally {
    closeSync(fd);
  }
}

/** Machine-wide PSI ("some" avg10, %) from /proc/pressure, or undefined on a kernel without PSI. */
export function readPressure(): { cpu: number; memory: number; io: number } | undefined {
  const some = (what: string) => {
    const m = /^some avg10=([\d.]+)/m.exec(readSmallProcFile(`/proc/pressure/${what}`));
    return m ? Number(m[1]) : 0;
  };
  try {
    return { cpu: some('cpu'), memory: some('memory'), io: some('io') };
  } catch {
    return undefined;
  }
}

/** Nanoseconds the process's main thread has spent waiting on a run queue (/proc/<pid>/schedstat, field 2). */
export function readRunqWaitNs(pid: number): number | undefined {
  try {
    const n = Number(readSmallProcFile(`/proc/${pid}/schedstat`).split(' ', 2)[1]);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Parent pid from /proc/<pid>/stat (the comm field may contain spaces and parentheses). */
export function readPpid(pid: number): number | undefined {
  try {
    const stat = readSmallProcFile(`/proc/${pid}/stat`);
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
