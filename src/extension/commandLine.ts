// Telling processes apart: every Node program is "node", every script "python3". The command line, read from
// /proc/<pid>/cmdline (the extension runs as the user, who may read it), names the script. vscode-free.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { plainText } from '../shared/format';

/** argv of a process, or undefined when it is gone or not readable (kernel threads have none). */
export function readArgv(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
    if (!raw) return undefined;
    return raw.replace(/\0$/, '').split('\0').map(plainText);
  } catch {
    return undefined;
  }
}

/** Interpreters whose first non-option argument is the program that matters. */
const INTERPRETER = /^(node|nodejs|bun|deno|python[0-9.]*|pypy[0-9.]*|ruby|perl|php|java|bash|sh|dash|zsh)$/;
/** Options of those interpreters that take a value (so the value is not mistaken for the script). */
const TAKES_VALUE = new Set([
  '-r',
  '--require',
  '--import',
  '--loader',
  '-m',
  '-cp',
  '-classpath',
  '--class-path',
  '-X',
  // VS Code's shell integration starts `bash --init-file …/shellIntegration-bash.sh`: that is not what runs.
  '--init-file',
  '--rcfile',
]);

/**
 * What to call a process: "leak.py", "server.js", "app.jar", "-m http.server", or the executable's name with its
 * first arguments when it is not an interpreter. Short enough for a tree row.
 */
export function scriptName(argv: readonly string[]): string {
  if (argv.length === 0) return '';
  const exe = path.basename(argv[0]);
  if (!INTERPRETER.test(exe)) return truncate(argv.map(baseIfPath).join(' '), 60);
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-m' && argv[i + 1]) return `-m ${argv[i + 1]}`; // python -m module
    if (a === '-jar' && argv[i + 1]) return path.basename(argv[i + 1]);
    if (a === '-c' || a === '-e') return truncate(`${a} ${argv[i + 1] ?? ''}`, 40); // inline code
    if (TAKES_VALUE.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    return truncate(path.basename(a), 60);
  }
  return exe;
}

const baseIfPath = (a: string, i: number) => (i === 0 || a.startsWith('/') ? path.basename(a) : a);

/** Cuts text to at most `max` characters at a word boundary, with an ellipsis when anything was cut. */
export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  const room = s.slice(0, max - 1);
  const space = room.lastIndexOf(' ');
  // A single long word (a path) is cut inside it rather than reduced to nothing.
  return `${(space >= max / 2 ? room.slice(0, space) : room).replace(/[\s,;:]+$/, '')}…`;
}

/** The whole command line for tooltips and reports, arguments quoted when they contain spaces. */
export function commandLineText(argv: readonly string[]): string {
  return truncate(argv.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' '), 400);
}

/**
 * Per-process command lines, read at most once per pid and name (a new program in the same pid, after exec,
 * has a new name). Only the rows on screen ask, so a machine with thousands of processes costs nothing extra.
 */
export class CommandLines {
  private readonly cache = new Map<number, { comm: string; argv: string[] | undefined }>();

  argv(pid: number, comm: string): string[] | undefined {
    const hit = this.cache.get(pid);
    if (hit && hit.comm === comm) return hit.argv;
    const argv = readArgv(pid);
    if (this.cache.size > 5000) this.cache.clear();
    this.cache.set(pid, { comm, argv });
    return argv;
  }

  forget(pid: number): void {
    this.cache.delete(pid);
  }
}
