// Which VS Code terminal, task or debug session started a process: its nearest ancestor that is one of their
// root processes. Lets a row say "terminal “bash”" and the context menu reveal that terminal.
import type * as vscode from 'vscode';
import { readPpid } from '../host/procfs';
import { watchRootProcesses } from './rootProcesses';

export type Owner =
  | { kind: 'terminal'; label: string; terminal: vscode.Terminal }
  | { kind: 'task'; label: string }
  | { kind: 'debug'; label: string };

export class Owners implements vscode.Disposable {
  private readonly roots = new Map<number, Owner>();
  private readonly cache = new Map<number, Owner | null>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor() {
    this.disposables.push(
      ...watchRootProcesses(
        (pid, origin) =>
          this.set(
            pid,
            origin.kind === 'terminal'
              ? { kind: 'terminal', label: `terminal “${origin.terminal.name}”`, terminal: origin.terminal }
              : { kind: 'task', label: `task “${origin.name}”` },
          ),
        (pid) => this.delete(pid),
      ),
    );
  }

  /** A debuggee found by the debug tracker or the filter command. */
  addDebuggee(pid: number, session: string): void {
    this.set(pid, { kind: 'debug', label: `debug session “${session}”` });
  }

  removeRoot(pid: number): void {
    this.delete(pid);
  }

  private set(pid: number, o: Owner): void {
    this.roots.set(pid, o);
    this.cache.clear();
  }

  private delete(pid: number): void {
    this.roots.delete(pid);
    this.cache.clear();
  }

  /** Forget the per-process answers (called once per window: processes come and go). */
  newWindow(): void {
    this.cache.clear();
  }

  /** The owner of a process, walking up its parents (at most 64 levels; pid 1 ends the walk). */
  of(pid: number): Owner | undefined {
    const hit = this.cache.get(pid);
    if (hit !== undefined) return hit ?? undefined;
    let found: Owner | undefined;
    for (let p: number | undefined = pid, i = 0; p && p > 1 && i < 64; i++) {
      found = this.roots.get(p);
      if (found) break;
      p = readPpid(p);
    }
    this.cache.set(pid, found ?? null);
    return found;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
