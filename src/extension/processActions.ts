// Acting on a diagnosed process, as the user and by the extension (the root helper has no way to signal):
// SIGTERM / SIGKILL, or a lower priority (setpriority, as renice -p does). Every action asks first, in a modal that
// names the process and its command line, and reaches the process that was shown or nothing: its pid and start
// time are checked again when the action is taken (src/host/processIdentity.ts), so a pid that another process took
// over while the dialog was open is left alone.
import * as vscode from 'vscode';
import { isSameProcess, reniceIfSame, signalIfSame } from '../host/processIdentity';
import type { Diagnosis } from '../shared/diagnosis/model';
import { plainText } from '../shared/format';
import { processName } from './report';

const stillSame = (d: Diagnosis) => isSameProcess({ tgid: d.tgid, startNs: d.startNs });

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
  try {
    if (signalIfSame(d, signal) === 'gone') {
      void vscode.window.showWarningMessage(
        `Hotspot: ${processName(d)} has already exited (its pid may now be another process's); nothing was sent.`,
      );
      return false;
    }
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
  if (!(await confirm(question, commandLine, 'Sets its nice value as your user.', 'Renice'))) return false;
  try {
    const r = reniceIfSame(d, Number(pick.label));
    if (r === 'gone') {
      void vscode.window.showWarningMessage(
        `Hotspot: ${processName(d)} has already exited (its pid may now be another process's); nothing was changed.`,
      );
      return false;
    }
    if (r === 'reused') {
      void vscode.window.showWarningMessage(
        `Hotspot: ${processName(d)} exited while being reniced; pid ${d.tgid} now belongs to another process, which got nice ${pick.label}.`,
      );
      return false;
    }
    vscode.window.setStatusBarMessage(`Hotspot: ${processName(d)} now runs at nice ${pick.label}`, 4000);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    void vscode.window.showErrorMessage(
      code === 'EACCES' || code === 'EPERM'
        ? `Hotspot: renice failed: only root may raise ${processName(d)}'s priority or change another user's process.`
        : `Hotspot: renice failed: ${plainText((e as Error).message)}`,
    );
    return false;
  }
}
