// The Diagnoses tree: one group per label (most severe first), processes under it, and under each process the
// evidence that made the rule fire and who preempts whom.
import * as vscode from 'vscode';
import { pressureText } from '../shared/classifier';
import type { Diagnosis, Label } from '../shared/diagnosis';
import { LABELS, SEVERITY } from '../shared/diagnosis';
import { cause, details } from '../shared/explain';
import { formatPercent } from '../shared/format';
import type { Update } from './monitor';
import type { Owner } from './owners';
import { processName, shortTooltip } from './report';

/** What the extension knows about a process beyond the diagnosis: what it runs, and who started it. */
export interface Identity {
  /** Short: the script of an interpreter ("leak.py"), or the executable and first arguments. */
  script?: string;
  commandLine?: string;
  owner?: Owner;
}

export type Node =
  | { kind: 'group'; label: Label; items: Diagnosis[]; total: number }
  | { kind: 'process'; d: Diagnosis }
  | { kind: 'detail'; text: string; tooltip?: string; icon: string; tgid?: number }
  | { kind: 'note'; text: string; icon: string; tooltip: string };

/** At most this many OK rows: the busiest, enough to see what runs without drowning the alerts. */
export const OK_CAP = 10;

const ICON: Record<Label, [string, string | undefined]> = {
  'OOM risk': ['flame', 'errorForeground'],
  'Mem-thrashing': ['arrow-swap', 'editorWarning.foreground'],
  Starved: ['watch', 'editorWarning.foreground'],
  'Noisy neighbor': ['megaphone', 'editorInfo.foreground'],
  'CPU-bound': ['dashboard', 'editorInfo.foreground'],
  OK: ['pass', 'testing.iconPassed'],
};

export class DiagnosesTree implements vscode.TreeDataProvider<Node> {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private roots: Node[] = [];
  private stale = false;

  constructor(
    private topK: () => number,
    private readonly identify: (d: Diagnosis) => Identity = () => ({}),
  ) {}

  update(u: Update | undefined): void {
    this.roots = [];
    if (u) {
      const groups = new Map<Label, Diagnosis[]>();
      for (const d of u.shown) {
        const g = groups.get(d.label);
        if (g) g.push(d);
        else groups.set(d.label, [d]);
      }
      const p = u.report.pressure;
      if (p && Math.max(p.cpu, p.memory, p.io) >= 5)
        this.roots.push({
          kind: 'note',
          text: pressureText(p),
          icon: 'pulse',
          tooltip:
            'Pressure stall information: the share of the last 10 s in which some task waited for CPU, memory or I/O.',
        }); // the machine is stalling: say so first
      const sat = u.report.perCoreSaturation;
      if (sat.length)
        this.roots.push({
          kind: 'note',
          icon: 'circuit-board',
          tooltip:
            'A single core is saturated while the machine as a whole is not: a single-threaded bottleneck or pinning.',
          text: `Saturated: ${sat.map((c) => `CPU ${c.cpu} ${formatPercent(c.busyPercent)} busy`).join(', ')} (machine ${formatPercent(u.report.machineBusyPercent)})`,
        });
      for (const label of [...LABELS].sort((a, b) => SEVERITY[b] - SEVERITY[a])) {
        const items = groups.get(label);
        if (items) {
          // OK is the background, not news: fewer rows, and the group starts collapsed (see getTreeItem).
          const cap = label === 'OK' ? Math.min(this.topK(), OK_CAP) : this.topK();
          this.roots.push({ kind: 'group', label, items: items.slice(0, cap), total: items.length });
        }
      }
    }
    this.changed.fire(undefined);
  }

  /** Marks every row as out of date (helper restarting, windows no longer arriving). */
  setStale(stale: boolean): void {
    if (stale === this.stale) return;
    this.stale = stale;
    this.changed.fire(undefined);
  }

  getChildren(n?: Node): Node[] {
    if (!n) return this.roots;
    if (n.kind === 'group') return n.items.map((d) => ({ kind: 'process', d }));
    if (n.kind !== 'process') return [];
    const d = n.d;
    const out: Node[] = details(d).map((text) => ({
      kind: 'detail',
      text,
      tooltip: `rule ${d.rule}`,
      icon: 'symbol-ruler',
    }));
    for (const a of d.preemptedBy.slice(0, 5))
      out.push({
        kind: 'detail',
        text: `preempted by ${processName(a)} ×${a.count}`,
        icon: 'arrow-left',
        tgid: a.tgid,
      });
    for (const v of d.preempts.slice(0, 5))
      out.push({
        kind: 'detail',
        text: `preempts ${processName(v)} ×${v.count}`,
        icon: 'arrow-right',
        tgid: v.tgid,
      });
    return out;
  }

  getTreeItem(n: Node): vscode.TreeItem {
    switch (n.kind) {
      case 'group': {
        const item = new vscode.TreeItem(
          n.label,
          n.label === 'OK'
            ? vscode.TreeItemCollapsibleState.Collapsed
            : vscode.TreeItemCollapsibleState.Expanded,
        );
        item.id = `group:${n.label}`;
        item.description = n.total > n.items.length ? `${n.items.length} of ${n.total}` : String(n.total);
        if (this.stale) item.description += ' · stale';
        const [icon, color] = ICON[n.label];
        item.iconPath = new vscode.ThemeIcon(
          icon,
          this.stale
            ? new vscode.ThemeColor('disabledForeground')
            : color
              ? new vscode.ThemeColor(color)
              : undefined,
        );
        item.contextValue = 'group';
        return item;
      }
      case 'process': {
        const d = n.d;
        const item = new vscode.TreeItem(processName(d), vscode.TreeItemCollapsibleState.Collapsed);
        // One id per process for its whole life, whatever group it is in: VS Code resolves a context-menu action's
        // row by id, and with the label in it an action chosen as the label changed ran with no row at all.
        item.id = `proc:${d.tgid}`;
        const who = this.identify(d);
        // The script tells one "node" from another; the command line and owner go in the tooltip.
        const script = who.script && who.script !== d.comm ? `${who.script} · ` : '';
        item.description = `${this.stale ? '(stale) ' : ''}${script}${cause(d)}`;
        const tip = shortTooltip(d, who.commandLine).split('\n');
        if (who.owner) tip.splice(Math.min(tip.length - 1, 3), 0, `started from ${who.owner.label}`);
        item.tooltip = tip.slice(0, 5).join('\n'); // plain text: names and command lines come from the machine
        // Screen readers get the row, not the whole report (which names other processes too).
        item.accessibilityInformation = {
          label: `${processName(d)}${who.script ? `, ${who.script}` : ''}, ${d.label}: ${cause(d)}`,
        };
        item.contextValue = who.owner?.kind === 'terminal' ? 'process.terminal' : 'process';
        return item;
      }
      case 'detail': {
        const item = new vscode.TreeItem(n.text, vscode.TreeItemCollapsibleState.None);
        item.iconPath = new vscode.ThemeIcon(n.icon);
        item.tooltip = n.tooltip;
        if (n.tgid !== undefined) {
          // An aggressor or victim: clicking the row selects that process.
          item.command = { command: 'hotspot.revealProcess', title: 'Select', arguments: [n.tgid] };
          item.tooltip = 'Click to select this process';
        }
        return item;
      }
      case 'note': {
        const item = new vscode.TreeItem(n.text, vscode.TreeItemCollapsibleState.None);
        item.iconPath = new vscode.ThemeIcon(n.icon, new vscode.ThemeColor('editorWarning.foreground'));
        item.tooltip = n.tooltip;
        return item;
      }
    }
  }

  getParent(n: Node): Node | undefined {
    if (n.kind !== 'process') return undefined;
    return this.roots.find((r) => r.kind === 'group' && r.items.some((d) => d.tgid === n.d.tgid));
  }

  /** The process node for a pid, to reveal it (status-bar click). */
  processNode(tgid: number): Node | undefined {
    for (const r of this.roots)
      if (r.kind === 'group') {
        const d = r.items.find((x) => x.tgid === tgid);
        if (d) return { kind: 'process', d };
      }
    return undefined;
  }
}
