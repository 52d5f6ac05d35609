// Finds the OS process behind a debug session. In order of trust:
//  1. the DAP `process` event's systemProcessId (debugpy, cppdbg, delve, vsdbg, … send it),
//  2. an attach configuration's processId,
//  3. a process whose command line runs the launch configuration's `program` (js-debug does not send 1.).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

export class DebuggeeTracker implements vscode.Disposable {
  private readonly pids = new Map<string, number>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(onPid: (pid: number, session: string) => void, onGone: (pid: number) => void) {
    const pids = this.pids;
    this.disposables.push(
      vscode.debug.registerDebugAdapterTrackerFactory('*', {
        createDebugAdapterTracker(session) {
          return {
            onDidSendMessage(m: { type?: string; event?: string; body?: { systemProcessId?: unknown } }) {
              const pid = m?.type === 'event' && m.event === 'process' ? m.body?.systemProcessId : undefined;
              if (typeof pid === 'number' && Number.isInteger(pid) && pid > 1) {
                pids.set(session.id, pid);
                onPid(pid, session.name);
              }
            },
          };
        },
      }),
      vscode.debug.onDidTerminateDebugSession((s) => {
        const pid = pids.get(s.id);
        if (pid) onGone(pid);
        pids.delete(s.id);
      }),
    );
  }

  /** The debuggee pid(s) of a session and of its child sessions (js-debug runs the program in a child). */
  find(session: vscode.DebugSession): number[] {
    const out = new Set<number>();
    for (let s: vscode.DebugSession | undefined = session; s; s = s.parentSession) {
      const known = this.pids.get(s.id);
      if (known) out.add(known);
      const attach = Number(s.configuration.processId);
      if (Number.isInteger(attach) && attach > 1) out.add(attach);
    }
    if (out.size) return [...out];
    // js-debug runs the program in a child session whose configuration is internal: use the launch config's.
    for (let s: vscode.DebugSession | undefined = session; s; s = s.parentSession) {
      const program = s.configuration.program;
      if (typeof program === 'string' && program) {
        const folder = s.workspaceFolder?.uri.fsPath ?? '';
        return byProgram(path.resolve(folder, program));
      }
    }
    return [];
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/** Processes with `program` among their arguments (resolved against their cwd); outermost ones only. */
function byProgram(program: string): number[] {
  const found: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const args = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').slice(1);
      const cwd = readlinkSync(`/proc/${d}/cwd`);
      if (args.some((a) => a && path.resolve(cwd, a) === program)) found.push(Number(d));
    } catch {}
  }
  return found;
}

/**
 * True for processes that run code from an installed VS Code extension (js-debug's watchdog, language servers):
 * tooling around the debuggee, not the program being debugged.
 */
export function isExtensionTooling(pid: number): boolean {
  let args: string[];
  try {
    args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return false;
  }
  const roots = vscode.extensions.all.map((e) => `${e.extensionPath}/`);
  return args.some((a) => roots.some((r) => a.startsWith(r)));
}
