// Which processes belong to "this workspace": cwd or executable inside a workspace folder, or a descendant of a
// VS Code terminal, task or debug session. Also the narrower filter to one process tree (the debuggee).
import { readlinkSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readPpid } from '../host/procfs';
import type { Diagnosis } from '../shared/diagnosis/model';
import { ProcessTreeFilter, parentsFrom } from '../shared/presentation/processTree';
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

  /**
   * VS Code's own processes: descendants of the process that started this extension host (the VS Code or
   * code-server server, which also starts the terminals' pty host) that are not under a terminal, task or debug
   * session, and run the extension host's own executable. Language servers written for Node (JSON, CSS, HTML,
   * TypeScript, ESLint), file watchers and the pty host are found this way, by ancestry and runtime, whatever
   * their name or working directory.
   */
  editorPredicate(diagnoses: readonly Diagnosis[]): (d: Diagnosis) => boolean {
    const parentOf = parentsFrom(diagnoses, readPpid);
    const editorRoots = new Set([process.pid, process.ppid]);
    const memo = new Map<number, boolean>();
    const owned = (pid: number): boolean => {
      const path: number[] = [];
      let verdict = false;
      for (let p: number | undefined = pid, i = 0; p !== undefined && p > 1 && i < 64; i++) {
        const known = memo.get(p);
        if (known !== undefined) {
          verdict = known;
          break;
        }
        if (this.roots.has(p)) break; // a terminal's, task's or debuggee's process: the user's
        if (editorRoots.has(p) && p !== pid) {
          verdict = true;
          break;
        }
        path.push(p);
        p = parentOf(p);
      }
      for (const p of path) memo.set(p, verdict);
      return verdict;
    };
    // Only what runs VS Code's own runtime (the extension host's executable: its node, or Electron as node):
    // a test run, a build or a program an extension starts for the user runs another executable and stays.
    const runtime = link(process.pid, 'exe');
    return (d) => owned(d.tgid) && runtime !== undefined && link(d.tgid, 'exe') === runtime;
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
