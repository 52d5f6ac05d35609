// The processes VS Code itself starts for the user — terminal shells and task processes — as they come and go.
// Both the workspace scope (their descendants are in scope) and the owner labels (which terminal or task started a
// process) hang off these roots.
import * as vscode from 'vscode';

export type RootOrigin = { kind: 'terminal'; terminal: vscode.Terminal } | { kind: 'task'; name: string };

/** Calls `add` for every terminal already open and every terminal or task process that starts, `remove` when it
 *  ends. A task is matched to its process by its execution, so two tasks of the same name stay apart. */
export function watchRootProcesses(
  add: (pid: number, origin: RootOrigin) => void,
  remove: (pid: number) => void,
): vscode.Disposable[] {
  const taskPids = new Map<vscode.TaskExecution, number>();
  const addTerminal = (t: vscode.Terminal) =>
    void t.processId.then((pid) => {
      if (pid) add(pid, { kind: 'terminal', terminal: t });
    });
  vscode.window.terminals.forEach(addTerminal);
  return [
    vscode.window.onDidOpenTerminal(addTerminal),
    vscode.window.onDidCloseTerminal(
      (t) =>
        void t.processId.then((pid) => {
          if (pid) remove(pid);
        }),
    ),
    vscode.tasks.onDidStartTaskProcess((e) => {
      taskPids.set(e.execution, e.processId);
      add(e.processId, { kind: 'task', name: e.execution.task.name });
    }),
    vscode.tasks.onDidEndTaskProcess((e) => {
      const pid = taskPids.get(e.execution);
      taskPids.delete(e.execution);
      if (pid) remove(pid);
    }),
  ];
}
