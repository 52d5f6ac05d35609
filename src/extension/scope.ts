// Which processes belong to "this workspace": cwd or executable inside a workspace folder, or a descendant of a
// VS Code terminal, task or debug session. Also the narrower filter to one process tree (the debuggee).
import { readlinkSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readPpid } from '../host/procfs';
import type { Diagnosis } from '../shared/diagnosis';
import { ProcessTreeFilter, parentsFrom } from '../shared/processTree';
import { watchRootProcesses } from './rootProcesses';

export interface ProcessFilter {
  roots: ReadonlySet<number>;
  /** Shown in the view's description, e.g. "debug: Busy loop (4242)". */
  label: string;
  /** Descendants to leave out (e.g. the debugger's own helper processes). */
  hide?: (pid: number) => boolean;
  /** Set for Filter to Debugged Process: the filter ends with this debug session. */
  debugSession?: string;
}

const link = (pid: number, what: 'cwd' | 'exe'): string | undefined => {
  try {
    return readlinkSync(`/proc/${pid}/${what}`);
  } catch {
    return undefined; // gone, or not ours to read when VS Code runs unprivileged
  }
};

const inside = (file: string, dir: string) =>
  file === dir || file.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

/** Windows between two readlinks of a process's cwd/exe: a process rarely moves, and 10k a window add up. */
const RECHECK_WINDOWS = 8;

export class WorkspaceScope implements vscode.Disposable {
  /** Terminal, task and debuggee pids; their descendants are in scope too. */
  private readonly roots = new Set<number>();
  private readonly disposables: vscode.Disposable[] = [];
  /** Per process: is its cwd or executable inside a workspace folder, as of which window. */
  private readonly insideCache = new Map<number, { inside: boolean; window: number }>();
  private window = 0;

  constructor() {
    this.disposables.push(
      ...watchRootProcesses(
        (pid) => this.roots.add(pid),
        (pid) => this.roots.delete(pid),
      ),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.insideCache.clear()),
    );
  }

  addRoot(pid: number): void {
    this.roots.add(pid);
  }

  removeRoot(pid: number): void {
    this.roots.delete(pid);
  }

  private folders(): string[] {
    return (vscode.workspace.workspaceFolders ?? [])
      .filter((f) => f.uri.scheme === 'file')
      .map((f) => path.resolve(f.uri.fsPath));
  }

  /** Returns a predicate for one window (memoised ancestry walks; cwd/exe re-read every few windows). */
  predicate(diagnoses: readonly Diagnosis[]): (d: Diagnosis) => boolean {
    const window = ++this.window;
    const folders = this.folders();
    const tree = new ProcessTreeFilter(this.roots, parentsFrom(diagnoses, readPpid));
    if (window % 64 === 0)
      for (const [tgid, c] of this.insideCache) if (window - c.window > 64) this.insideCache.delete(tgid);
    const inWorkspace = (tgid: number): boolean => {
      const hit = this.insideCache.get(tgid);
      if (hit && window - hit.window < RECHECK_WINDOWS) return hit.inside;
      const cwd = link(tgid, 'cwd');
      const exe = link(tgid, 'exe');
      const yes = folders.some((f) => (cwd && inside(cwd, f)) || (exe && inside(exe, f)));
      this.insideCache.set(tgid, { inside: yes, window });
      return yes;
    };
    return (d) => inWorkspace(d.tgid) || tree.includes(d.tgid);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/** Predicate for "this process tree only" (filter to the debuggee or to a process picked in the tree). */
export function treePredicate(
  filter: ProcessFilter,
  diagnoses: readonly Diagnosis[],
): (d: Diagnosis) => boolean {
  const tree = new ProcessTreeFilter(filter.roots, parentsFrom(diagnoses, readPpid));
  return (d) => tree.includes(d.tgid) && (filter.roots.has(d.tgid) || !filter.hide?.(d.tgid));
}
