// Outside text (process names, cgroup paths, replayed sessions) made safe for the places VS Code interprets it.
// Pure: no vscode import, unit-tested in plain Node.
import { plainText } from '../shared/format';

/**
 * For a status-bar item's text, where `$(name)` renders a codicon: plain text with every `$(` escaped, so a
 * process named `$(warning) OOM` shows those characters instead of an icon that impersonates an alert.
 */
export function statusBarText(s: string): string {
  return plainText(s).replace(/\$\(/g, '\\$(');
}

/** Multi-line text (Copy Report) with each line made plain; the line breaks themselves are kept. */
export function plainLines(s: string): string {
  return s
    .split(/\r?\n/)
    .map((line) => plainText(line))
    .join('\n');
}
