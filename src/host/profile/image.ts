// What the unprivileged side reads about a process to symbolize its profile: its memory maps (snapshotted while
// the profile runs, so a process that exits mid-profile still resolves), its pid inside its pid namespace (NSpid:
// a container's perf map is named by that pid, under /proc/<pid>/root/tmp), and its name and command line.
// Read as the user, who owns the process (the helper only profiles the requester's own processes).
import { readFileSync, statSync } from 'node:fs';
import { type Mapping, mergeMaps, parseMaps } from '../../shared/profile/procMaps';

export class ProcessImage {
  private maps: Mapping[] = [];
  /** The innermost pid (the last NSpid field): what the process calls itself, and names its perf map with. */
  nspid: number;
  comm = '';
  cmdline: string[] = [];
  exe = '';
  private hostRoot = false;

  constructor(readonly pid: number) {
    this.nspid = pid;
    this.snapshot();
  }

  /** Reads the maps again and keeps what was mapped earlier and is gone now. False once the process is gone. */
  snapshot(): boolean {
    try {
      const now = parseMaps(readFileSync(`/proc/${this.pid}/maps`, 'latin1'));
      const root = statSync(`/proc/${this.pid}/root/`);
      const ours = statSync('/');
      this.hostRoot = root.dev === ours.dev && root.ino === ours.ino;
      this.maps = mergeMaps(now, this.maps);
      const status = readFileSync(`/proc/${this.pid}/status`, 'latin1');
      const ns = /^NSpid:\s*(.*)$/m.exec(status)?.[1].trim().split(/\s+/);
      if (ns?.length) this.nspid = Number(ns[ns.length - 1]) || this.pid;
      this.comm = /^Name:\s*(.*)$/m.exec(status)?.[1] ?? this.comm;
      const cmd = readFileSync(`/proc/${this.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (cmd.length) this.cmdline = cmd.slice(0, 64);
      return true;
    } catch {
      return false;
    }
  }

  get mappings(): readonly Mapping[] {
    return this.maps;
  }

  /** A path as the process sees it: through its root, so a container's files are the container's. A process whose
   *  root is ours reads paths directly, which still works after it exited (a partial profile). */
  inRoot(file: string): string {
    return this.hostRoot ? file : `/proc/${this.pid}/root${file}`;
  }

  /** The JIT's perf map text, or undefined when there is none (the runtime was started without it). */
  perfMap(): string | undefined {
    for (const f of [this.inRoot(`/tmp/perf-${this.nspid}.map`), `/tmp/perf-${this.pid}.map`])
      try {
        return readFileSync(f, 'latin1');
      } catch {}
    return undefined;
  }
}
