// Where a config file says something the active profile will not read, and how far a value reaches on its line.
// vscode-free (unit-tested): positions are 0-based lines and columns.
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import { referenceOnlyKeys } from '../shared/diagnosis/config';
import type { Profile } from '../shared/diagnosis/model';

export interface KeyWarning {
  key: string;
  line: number;
  column: number;
  endColumn: number;
  message: string;
}

/** Keys set in the file that `profile` ignores: the reference tool's keys under the default profile. */
export function ignoredKeyWarnings(text: string, profile: Profile): KeyWarning[] {
  if (profile !== 'default') return [];
  const refOnly = new Set(referenceOnlyKeys());
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  if (!isMap(doc.contents)) return [];
  const out: KeyWarning[] = [];
  for (const section of doc.contents.items) {
    if (!isScalar(section.key) || !isMap(section.value)) continue;
    for (const pair of section.value.items) {
      if (!isScalar(pair.key)) continue;
      const key = `${section.key.value}.${pair.key.value}`;
      if (!refOnly.has(key) || !pair.key.range) continue;
      const at = lines.linePos(pair.key.range[0]);
      const end = isScalar(pair.value) && pair.value.range ? lines.linePos(pair.value.range[1]) : undefined;
      out.push({
        key,
        line: at.line - 1,
        column: at.col - 1,
        endColumn: end && end.line === at.line ? end.col - 1 : at.col - 1 + String(pair.key.value).length,
        message: `${key} is read only by \`profile: reference\`; the active profile (default) ignores it. Remove it, or set \`profile: reference\`.`,
      });
    }
  }
  return out;
}

/** The column where a value starting at `col` ends: before a comment or trailing blanks (at least one past col). */
export function valueEnd(lineText: string, col: number): number {
  const rest = lineText.slice(col);
  const comment = rest.search(/\s#/);
  const value = (comment >= 0 ? rest.slice(0, comment) : rest).trimEnd();
  return col + Math.max(1, value.length);
}
