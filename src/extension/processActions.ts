// Acting on a diagnosed process, as the user and by the extension (the root helper has no way to signal):
// SIGTERM / SIGKILL with process.kill, lower priority with renice(1). Every action asks first, in a modal that
// names the process and its command line, and checks the pid still runs the same program.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { Diagnosis } from '../shared/diagnosis';
import { plainText } from '../shared/format';
import { processName } from './report';

/** The pid still belongs to the process the user saw (its name did not change: no pid reuse). */
function stillSame(d: Diagnosis): boolean {
  try {
    return readFileSync(`/proc/${d.tgid}/comm`, 'utf8').trim() === d.comm;
  } catch {
    return false;
  }
}

/** Pids no action may touch: init, our own extension host, and the helper (Stop handles that). */
function refuse(d: Diagnosis, protectedPids: readonly (number | undefined)[]): string | undefined {
  if (d.tgid <= 1) return 'Hotspot does not signal init.';
  if (protectedPids.includes(d.tgid))
    return `${processName(d)} is VS Code's extension host or Hotspot's helper; use Hotspot: Stop instead.`;
  if (!stillSame(d)) return `${processName(d)} has exited (or its pid now runs another program).`;
  return undefined;
}

/** False (after saying why) when no action may touch this process. */
function allowed(d: Diagnosis, protectedPids: readonly (number | undefined)[]): boolean {
  const no = refuse(d, protectedPids);
  if (no) void vscode.window.showWarningMessage(`Hotspot: ${no}`);
  return !no;
}

/** The modal every action asks first: the question, the command line, what will happen; true if `verb` is chosen. */
async function confirm(
  question: string,
  commandLine: string | undefined,
  consequence: string,
  verb: string,
): Promise<boolean> {
  const detail = `${commandLine ? `${plainText(commandLine)}\n\n` : ''}${consequence}`;
  return (await vscode.window.showWarningMessage(question, { modal: true, detail }, verb)) === verb;
}

export async function sendSignal(
  d: Diagnosis,
  signal: 'SIGTERM' | 'SIGKILL',
  commandLine: string | undefined,
  protectedPids: readonly (number | undefined)[],
): Promise<boolean> {
  if (!allowed(d, protectedPids)) return false;
  const verb = signal === 'SIGTERM' ? 'Terminate' : 'Kill';
  const consequence = `Sends ${signal}${signal === 'SIGKILL' ? ' (it cannot clean up)' : ''} as your user.`;
  if (!(await confirm(`${verb} ${processName(d)}?`, commandLine, consequence, verb))) return false;
  if (!stillSame(d)) {
    void vscode.window.showWarningMessage(`Hotspot: ${processName(d)} has already exited.`);
    return false;
  }
  try {
    process.kill(d.tgid, signal);
    vscode.window.setStatusBarMessage(`Hotspot: ${signal} sent to ${processName(d)}`, 4000);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    void vscode.window.showErrorMessage(
      code === 'EPERM'
        ? `Hotspot: ${processName(d)} belongs to another user; you may not signal it.`
        : `Hotspot: could not signal ${processName(d)}: ${(e as Error).message}`,
    );
    return false;
  }
}

export async function renice(
  d: Diagnosis,
  commandLine: string | undefined,
  protectedPids: readonly (number | undefined)[],
): Promise<boolean> {
  if (!allowed(d, protectedPids)) return false;
  const pick = await vscode.window.showQuickPick(
    [
      { label: '10', description: 'lower priority (yields to most processes)' },
      { label: '19', description: 'lowest priority (runs when nothing else wants the CPU)' },
      { label: '5', description: 'slightly lower priority' },
      { label: '0', description: 'normal priority (raising it back needs root)' },
    ],
    { title: `Renice ${processName(d)}`, placeHolder: 'New nice value (higher = lower priority)' },
  );
  if (!pick) return false;
  const question = `Set the nice value of ${processName(d)} to ${pick.label}?`;
  if (!(await confirm(question, commandLine, 'Runs renice as your user.', 'Renice'))) return false;
  return new Promise((resolve) =>
    execFile('renice', ['-n', pick.label, '-p', String(d.tgid)], (err, _out, stderr) => {
      if (err) {
        void vscode.window.showErrorMessage(
          `Hotspot: renice failed: ${plainText(stderr || err.message).trim()}`,
        );
        resolve(false);
      } else {
        vscode.window.setStatusBarMessage(`Hotspot: ${processName(d)} now runs at nice ${pick.label}`, 4000);
        resolve(true);
      }
    }),
  );
}
