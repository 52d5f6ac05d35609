// The Diagnoses tree: one group per label (most severe first), processes under it, and under each process the
// figures behind its label and whom it waits behind or makes wait. Rows are updated in place: every node is one
// object for as long as its row exists, and a window fires a change only for the rows whose visible content
// changed, so an open hover or a selection is not torn down by a refresh of the whole tree. The rows' sets and
// orders are sticky (a row that appeared keeps its place for a few windows), so nothing moves under the reader.
import * as vscode from 'vscode';
import type { Diagnosis, Label } from '../shared/diagnosis/model';
import { LABELS, SEVERITY } from '../shared/diagnosis/model';
import { formatCount, formatCpu, formatPercent, pressureText } from '../shared/format';
import { details } from '../shared/presentation/explain';
import { withHottest } from '../shared/profile/hint';
import type { Update } from './monitor';
import type { Owner } from './owners';
import { recentProfiles } from './profileCommand';
import { processName, shortTooltip } from './report';
import { headline, knownPeer } from './rowText';
import { PEER_ROWS, StickyPeers, stickyPick } from './sticky';

/** What the extension knows about a process beyond the diagnosis: what it runs, and who started it. */
export interface Identity {
  /** Short: the script of an interpreter ("leak.py"), or the executable and first arguments. */
  script?: string;
  commandLine?: string;
  owner?: Owner;
  /** Its nice value (/proc/<pid>/stat), shown on the row when not 0: two identical loops differ by it. */
  nice?: number;
  /** One of VS Code's own processes (language server, extension host child): marked, never alerted. */
  editor?: boolean;
}

export interface GroupNode {
  kind: 'group';
  label: Label;
  items: Diagnosis[];
  total: number;
  children: ProcessNode[];
}
export interface ProcessNode {
  kind: 'process';
  d: Diagnosis;
  group: GroupNode;
  children: DetailNode[];
  /** The row as last rendered (label, description, context): no change event when this one is the same. */
  sig: string;
  behind: StickyPeers;
  holds: StickyPeers;
}
export interface DetailNode {
  kind: 'detail';
  text: string;
  tooltip?: string;
  icon: string;
  tgid?: number;
  parent: ProcessNode;
  sig: string;
}
export interface NoteNode {
  kind: 'note';
  key: string;
  text: string;
  icon: string;
  tooltip: string;
  sig: string;
}
export type Node = GroupNode | ProcessNode | DetailNode | NoteNode;

/** At most this many OK rows: the busiest, enough to see what runs without drowning the alerts. */
export const OK_CAP = 10;
/** Windows the "Saturated" note stays after the core calmed down. */
const LINGER_WINDOWS = 5;
/** How long a hovered process row is held still (its tooltip stays open while the figures move on). */
export const HOVER_HOLD_MS = 10_000;

const ICON: Record<Label, [string, string | undefined]> = {
  'OOM risk': ['flame', 'errorForeground'],
  'Mem-thrashing': ['arrow-swap', 'editorWarning.foreground'],
  'I/O-bound': ['database', 'editorWarning.foreground'],
  Starved: ['watch', 'editorWarning.foreground'],
  'Noisy neighbor': ['megaphone', 'editorInfo.foreground'],
  'CPU-bound': ['dashboard', 'editorInfo.foreground'],
  OK: ['pass', 'testing.iconPassed'],
};

export class DiagnosesTree implements vscode.TreeDataProvider<Node> {
  private readonly changed = new vscode.EventEmitter<Node | Node[] | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private roots: Node[] = [];
  private readonly groups = new Map<Label, GroupNode>();
  private readonly procs = new Map<number, ProcessNode>();
  private readonly notes = new Map<string, NoteNode & { seen: number; cpus?: number[] }>();
  private stale = false;
  private window = 0;
  private durationSec = 1;
  /** The process row under the mouse (VS Code asked for its tooltip) and until when it is held. */
  private hovered?: { node: ProcessNode; until: number };
  /** Group or root changes kept back while a row was held: applied by a full refresh once the hold ends. */
  private deferred = false;

  constructor(
    private topK: () => number,
    private readonly identify: (d: Diagnosis) => Identity = () => ({}),
  ) {}

  update(u: Update | undefined): void {
    if (!u) {
      this.roots = [];
      this.groups.clear();
      this.procs.clear();
      this.notes.clear();
      this.hovered = undefined;
      this.changed.fire(undefined);
      return;
    }
    if (u.fresh) this.window++;
    this.durationSec = Math.max(0.001, u.report.durationNs / 1e9);
    const held = this.hovered && Date.now() < this.hovered.until ? this.hovered.node : undefined;
    const fire = new Set<Node>();
    const roots: Node[] = [...this.updateNotes(u, fire)];

    const byLabel = new Map<Label, Diagnosis[]>();
    for (const d of u.shown) {
      const g = byLabel.get(d.label);
      if (g) g.push(d);
      else byLabel.set(d.label, [d]);
    }
    // While a row is held (its tooltip is open), nothing structural changes: a group refresh would re-render the
    // hovered row and close the tooltip. Rows still update their text one by one; rows that come, go or change
    // group wait until the hold ends (`deferred`), then the whole tree is refreshed once.
    const live = new Set<number>();
    let moved = false;
    for (const label of [...LABELS].sort((a, b) => SEVERITY[b] - SEVERITY[a])) {
      const items = byLabel.get(label);
      let g = this.groups.get(label);
      if (!items) {
        if (g && held) {
          this.deferred = true;
          roots.push(g);
        } else this.groups.delete(label);
        continue;
      }
      if (!g) {
        g = { kind: 'group', label, items: [], total: 0, children: [] };
        this.groups.set(label, g);
      }
      // OK is the background, not news: fewer rows, and the group starts collapsed (see getTreeItem).
      const cap = label === 'OK' ? Math.min(this.topK(), OK_CAP) : this.topK();
      const picked = stickyPick(g.items, items, cap);
      const children: ProcessNode[] = [];
      for (const d of picked) {
        let p = this.procs.get(d.tgid);
        if (!p || p.group !== g) {
          if (held) {
            this.deferred = true;
            continue;
          }
          if (p) moved = true; // from another group: both groups change
          p = {
            kind: 'process',
            d,
            group: g,
            children: [],
            sig: '',
            behind: p?.behind ?? new StickyPeers(),
            holds: p?.holds ?? new StickyPeers(),
          };
          this.procs.set(d.tgid, p);
        }
        live.add(d.tgid);
        children.push(p);
        if (p === held) continue; // its tooltip is open: the row keeps what the reader is looking at
        p.d = d;
        const sig = this.processSig(p);
        const kids = this.detailNodes(p);
        if (sig !== p.sig || kids.length !== p.children.length) fire.add(p);
        else for (const [i, k] of kids.entries()) if (k.sig !== p.children[i].sig) fire.add(p.children[i]);
        p.sig = sig;
        // Same number of rows: patch them in place, so an expanded detail row is the same node.
        if (kids.length === p.children.length)
          for (const [i, k] of kids.entries()) Object.assign(p.children[i], k, { parent: p });
        else p.children = kids;
      }
      const changed =
        !sameList(children, g.children) ||
        groupDescription(children.length, items.length) !== groupDescription(g.items.length, g.total);
      if (held) {
        if (changed) this.deferred = true; // the group keeps its rows and count until the hold ends
      } else {
        if (changed) fire.add(g);
        g.children = children;
        g.items = children.map((c) => c.d);
        g.total = items.length;
      }
      roots.push(g);
    }
    if (!held) for (const tgid of this.procs.keys()) if (!live.has(tgid)) this.procs.delete(tgid);

    let rootsChanged = !sameList(roots, this.roots);
    if (held) {
      if (rootsChanged) this.deferred = true;
      rootsChanged = false;
    } else {
      // Two groups refreshed in one event can briefly hold the same row id (VS Code: "already registered"):
      // a row that changed group, or what a hold kept back, refreshes the whole tree once.
      if (this.deferred || moved) rootsChanged = true;
      this.deferred = false;
      this.roots = roots;
    }
    if (rootsChanged) {
      this.changed.fire(undefined);
      return;
    }
    // A group that is refreshed re-reads its rows: no need to name them too.
    const out = [...fire].filter(
      (n) =>
        !(n.kind === 'process' && fire.has(n.group)) &&
        !(n.kind === 'detail' && (fire.has(n.parent) || fire.has(n.parent.group))),
    );
    if (out.length) this.changed.fire(out);
  }

  /** The machine-wide notes (pressure, a saturated core): each lingers a few windows so it does not blink. */
  private updateNotes(u: Update, fire: Set<Node>): NoteNode[] {
    const p = u.report.pressure;
    if (p && Math.max(p.cpu, p.memory, p.io) >= 5)
      this.note(
        'pressure',
        pressureText(p),
        'pulse',
        'Pressure stall information: the share of the last 10 s in which some task waited for CPU, memory or I/O.',
        fire,
      );
    const sat = u.report.perCoreSaturation;
    const prev = this.notes.get('saturated');
    if (sat.length || prev) {
      // A core saturated lately: its figures now, so the row does not come and go with each window.
      const cpus = new Set([...sat.map((c) => c.cpu), ...(sat.length ? [] : (prev?.cpus ?? []))]);
      const now = u.report.cores.filter((c) => cpus.has(c.cpu));
      const n = this.note(
        'saturated',
        `Saturated: ${now.map((c) => `CPU ${c.cpu} ${formatPercent(c.busyPercent)} busy`).join(', ')} (machine ${formatPercent(u.report.machineBusyPercent)})`,
        'circuit-board',
        'A single core is saturated while the machine as a whole is not: a single-threaded bottleneck or pinning.',
        fire,
        sat.length > 0,
      );
      n.cpus = [...cpus];
    }
    const out: NoteNode[] = [];
    for (const [key, n] of this.notes) {
      if (this.window - n.seen >= LINGER_WINDOWS) this.notes.delete(key);
      else out.push(n);
    }
    return out;
  }

  private note(
    key: string,
    text: string,
    icon: string,
    tooltip: string,
    fire: Set<Node>,
    seen = true,
  ): NoteNode & { seen: number; cpus?: number[] } {
    let n = this.notes.get(key);
    if (!n) {
      n = { kind: 'note', key, text, icon, tooltip, sig: text, seen: this.window };
      this.notes.set(key, n);
    }
    if (seen) n.seen = this.window;
    if (n.sig !== text) fire.add(n);
    Object.assign(n, { text, sig: text });
    return n;
  }

  /** Marks every row as out of date (helper restarting, windows no longer arriving). */
  setStale(stale: boolean): void {
    if (stale === this.stale) return;
    this.stale = stale;
    this.changed.fire(undefined);
  }

  getChildren(n?: Node): Node[] {
    if (!n) return this.roots;
    if (n.kind === 'group') return n.children;
    if (n.kind === 'process') return n.children;
    return [];
  }

  /** The figures behind the label, then whom it waits behind and whom it makes wait, by the wait. */
  private detailNodes(p: ProcessNode): DetailNode[] {
    const d = p.d;
    const detail = (text: string, icon: string, tgid?: number, tooltip?: string): DetailNode => ({
      kind: 'detail',
      text,
      icon,
      tgid,
      tooltip: tgid !== undefined ? 'Click to select this process' : tooltip,
      parent: p,
      sig: `${icon}|${text}`,
    });
    // Whom it waited behind are rows of their own below: the figures keep the lines that are always there.
    const out = details(d)
      .filter((t) => !/^(preempted by|waited behind|made others wait)/.test(t))
      .map((t) => detail(t, 'symbol-ruler', undefined, 'The figures of the last window.'));
    const wait = (ns: number) => formatCpu(ns / 1e7);
    const perSec = (n: number) => `${formatCount(n / this.durationSec)}/s`;
    // Ranked by the wait caused (the preemption count alone cannot tell who hurts whom: two loops sharing a CPU
    // preempt each other about equally), amounts in % of one core like every CPU figure.
    for (const a of p.behind.update(d.behind ?? [], this.window)) {
      const preemptions = d.preemptedBy.find((x) => x.tgid === a.tgid)?.count ?? 0;
      out.push(
        detail(
          `waits behind ${processName(a)}: ${wait(a.count)} of a core${preemptions ? ` (preempted ${perSec(preemptions)})` : ''}`,
          'arrow-left',
          a.tgid,
        ),
      );
    }
    for (const v of p.holds.update(d.label === 'Noisy neighbor' ? (d.holds ?? []) : [], this.window))
      out.push(detail(`makes ${processName(v)} wait ${wait(v.count)} of a core`, 'arrow-right', v.tgid));
    if (!d.behind?.length && !d.holds?.length && d.metrics.waitCorePercent === undefined)
      // The reference profile counts preemptions, not waits: per second, by count.
      for (const a of d.preemptedBy.filter(knownPeer).slice(0, PEER_ROWS))
        out.push(detail(`preempted by ${processName(a)}: ${perSec(a.count)}`, 'arrow-left', a.tgid));
    return out;
  }

  private processSig(p: ProcessNode): string {
    const item = this.processItem(p);
    return `${item.label}|${item.description}|${item.contextValue}|${this.stale}`;
  }

  private processItem(p: ProcessNode): vscode.TreeItem {
    const d = p.d;
    const item = new vscode.TreeItem(processName(d), vscode.TreeItemCollapsibleState.Collapsed);
    // One id per process for its whole life, whatever group it is in: VS Code resolves a context-menu action's
    // row by id, and with the label in it an action chosen as the label changed ran with no row at all.
    item.id = `proc:${d.tgid}`;
    const who = this.identify(d);
    // Cause first: the name and the figure that made the label fit the default sidebar width; the script
    // (what tells one "node" from another) follows, the command line and owner are in the tooltip.
    // A CPU-bound process profiled in the last minute also says where its CPU goes.
    const parts = [withHottest(headline(d), d.label, recentProfiles.get(d.tgid), Date.now())];
    if (who.nice) parts.push(`nice ${who.nice}`);
    if (who.editor) parts.push("VS Code's own");
    if (who.script && who.script !== d.comm) parts.push(who.script);
    item.description = `${this.stale ? '(stale) ' : ''}${parts.join(' · ')}`;
    // Screen readers get the row, not the whole report (which names other processes too).
    item.accessibilityInformation = { label: `${processName(d)}, ${d.label}: ${item.description}` };
    // ".cpu" marks CPU-bound rows (Profile CPU… is first in every row's context menu; not inline: a fourth icon hid the cause).
    item.contextValue = `${who.owner?.kind === 'terminal' ? 'process.terminal' : 'process'}${d.label === 'CPU-bound' ? '.cpu' : ''}`;
    return item;
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
        item.description = groupDescription(n.items.length, n.total);
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
      case 'process':
        // No tooltip here: resolveTreeItem serves it when the row is hovered (and holds the row still).
        return this.processItem(n);
      case 'detail': {
        const item = new vscode.TreeItem(n.text, vscode.TreeItemCollapsibleState.None);
        item.id = `detail:${n.parent.d.tgid}:${n.parent.children.indexOf(n)}`;
        item.iconPath = new vscode.ThemeIcon(n.icon);
        item.tooltip = n.tooltip;
        item.accessibilityInformation = { label: n.text };
        if (n.tgid !== undefined)
          // An aggressor or victim: clicking the row selects that process.
          item.command = { command: 'hotspot.revealProcess', title: 'Select', arguments: [n.tgid] };
        return item;
      }
      case 'note': {
        const item = new vscode.TreeItem(n.text, vscode.TreeItemCollapsibleState.None);
        item.id = `note:${n.key}`;
        item.iconPath = new vscode.ThemeIcon(n.icon, new vscode.ThemeColor('editorWarning.foreground'));
        item.tooltip = n.tooltip;
        item.accessibilityInformation = { label: n.text };
        return item;
      }
    }
  }

  /** Called by VS Code when a process row is hovered: the tooltip, and the row held still while it is read. */
  resolveTreeItem(item: vscode.TreeItem, n: Node): vscode.TreeItem {
    if (n.kind !== 'process') return item;
    this.hovered = { node: n, until: Date.now() + HOVER_HOLD_MS };
    const who = this.identify(n.d);
    const tip = shortTooltip(n.d, who.commandLine).split('\n');
    if (who.owner) tip.splice(Math.min(tip.length - 1, 3), 0, `started from ${who.owner.label}`);
    if (who.editor) tip.splice(1, 0, "One of VS Code's own processes (it runs outside any terminal).");
    item.tooltip = tip.slice(0, 6).join('\n'); // plain text: names and command lines come from the machine
    return item;
  }

  getParent(n: Node): Node | undefined {
    if (n.kind === 'process') return n.group;
    if (n.kind === 'detail') return n.parent;
    return undefined;
  }

  /** The process node for a pid, to reveal it (status-bar click). */
  processNode(tgid: number): Node | undefined {
    return this.procs.get(tgid);
  }
}

const groupDescription = (shown: number, total: number) =>
  total > shown ? `${shown} of ${total}` : String(total);

const sameList = <T>(a: readonly T[], b: readonly T[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);
