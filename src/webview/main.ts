// The dashboard's webview. The page is built once; every window only patches it: each process card, table row,
// preemption pair and core bar is keyed (by pid or cpu) and keeps its DOM node, so scrolling, keyboard focus and
// what the user expanded survive the updates; each patch runs inside scrollHold (hold.ts), so what is at the top
// of the view stays in its place on screen while rows come and go above and below it. Process names come from the
// observed machine, so text is only ever set through textContent. Over 400 lines because every section patches
// through the same keyed nodes and the same scroll hold; split by section, each would carry that state around.
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import { formatBytes, formatCount, formatCpu, formatPercent, plainText } from '../shared/format';
import type {
  DashboardModel,
  FromWebview,
  PreemptEdge,
  ProcessRow,
  ProcessSeries,
  TimelineRow,
  ToWebview,
} from '../shared/presentation/dashboard';
import { scrollHold } from './hold';
import { keyboardNavigation } from './keyboard';
import { KeyedList } from './keyed';

declare function acquireVsCodeApi(): { postMessage(m: FromWebview): void };
const vscode = acquireVsCodeApi();
const SVG = 'http://www.w3.org/2000/svg';

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  cls?: string,
  text?: string,
): HTMLElementTagNameMap[K];
function el(tag: string, cls?: string, text?: string): HTMLElement;
function el(tag: string, cls?: string, text?: string): HTMLElement {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function svg(tag: string, attrs: Record<string, string | number>): SVGElement {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/** Sets text only when it changed, so an unchanged window touches nothing (no layout, no flicker). */
function setText(e: Element, text: string): void {
  if (e.textContent !== text) e.textContent = text;
}

const name = (p: { comm: string; tgid: number }) => `${plainText(p.comm)} (${p.tgid})`;
const mib = (v: number) => formatBytes(v * 2 ** 20);

/** A sparkline patched in place; NaN points (process absent) break the line. */
class Sparkline {
  readonly el = el('figure', 'spark');
  private readonly path = svg('path', { class: 'line' });
  private readonly caption = el('figcaption');

  constructor(
    private readonly title: string,
    private readonly fmt: (v: number) => string,
  ) {
    const s = svg('svg', { viewBox: '0 0 160 32', width: 160, height: 32, role: 'img', 'aria-label': title });
    s.appendChild(this.path);
    this.el.append(s, this.caption);
  }

  update(values: number[]): void {
    const w = 160;
    const h = 32;
    let max = 1e-9;
    for (const v of values) if (Number.isFinite(v) && v > max) max = v;
    const step = values.length > 1 ? w / (values.length - 1) : w;
    let d = '';
    let pen = false;
    let last = Number.NaN;
    values.forEach((v, i) => {
      if (!Number.isFinite(v)) {
        pen = false;
        return;
      }
      last = v;
      d += `${pen ? 'L' : 'M'}${(i * step).toFixed(1)},${(h - 2 - ((h - 4) * v) / max).toFixed(1)} `;
      pen = true;
    });
    if (this.path.getAttribute('d') !== d) this.path.setAttribute('d', d);
    setText(this.caption, `${this.title} ${Number.isFinite(last) ? this.fmt(last) : '—'}`);
  }
}

const LABEL_CLASS: Record<string, string> = {
  'OOM risk': 'sev-oom',
  'Mem-thrashing': 'sev-thrash',
  'I/O-bound': 'sev-io',
  Starved: 'sev-starved',
  'Noisy neighbor': 'sev-noisy',
  'CPU-bound': 'sev-cpu',
  OK: 'sev-ok',
};

/** Cards whose details the user opened, by pid (kept across windows). */
const expanded = new Set<number>();

function button(text: string, title: string, onClick: () => void): HTMLElement {
  const b = el('vscode-button', undefined, text);
  b.setAttribute('secondary', '');
  b.title = title;
  b.addEventListener('click', onClick);
  return b;
}

class ProcessCard {
  readonly el = el('section', 'proc');
  private readonly title = el('strong');
  private readonly badge = el('vscode-badge');
  private readonly summary = el('span', 'summary');
  private readonly toggle = el('button', 'toggle', 'Details');
  private readonly details = el('ul', 'details');
  private readonly sparks = [
    new Sparkline('CPU (% of a core)', formatCpu),
    new Sparkline('RSS', mib),
    new Sparkline('page faults/s', formatCount),
  ];
  private detailKey = '';

  constructor(private readonly tgid: number) {
    this.el.id = `proc-${tgid}`;
    this.el.tabIndex = 0;
    this.el.setAttribute('role', 'listitem');
    this.el.dataset.nav = 'procs';
    this.el.dataset.tgid = String(tgid);
    const head = el('div', 'proc-head');
    this.toggle.setAttribute('aria-controls', `details-${tgid}`);
    this.details.id = `details-${tgid}`;
    this.toggle.addEventListener('click', () => this.setExpanded(!expanded.has(tgid)));
    head.append(
      this.title,
      this.badge,
      this.summary,
      this.toggle,
      button('Filter', 'Show only this process and its descendants', () =>
        vscode.postMessage({ type: 'filter', tgid }),
      ),
    );
    const sparks = el('div', 'sparks');
    sparks.append(...this.sparks.map((s) => s.el));
    this.el.append(head, this.details, sparks);
    this.setExpanded(expanded.has(tgid));
  }

  setExpanded(open: boolean): void {
    if (open) expanded.add(this.tgid);
    else expanded.delete(this.tgid);
    this.toggle.setAttribute('aria-expanded', String(open));
    this.details.hidden = !open;
  }

  update(p: ProcessSeries): void {
    const cls = `proc ${LABEL_CLASS[p.label] ?? ''}${p.absent ? ' absent' : ''}${revealed === p.tgid ? ' revealed' : ''}`;
    if (this.el.className !== cls) this.el.className = cls;
    setText(this.title, name(p));
    const state = p.absent ? 'idle or exited' : p.label;
    setText(this.badge, state);
    setText(this.summary, p.summary);
    this.el.setAttribute('aria-label', `${name(p)}, ${state}: ${p.summary}`);
    const key = p.details.join('\n');
    if (key !== this.detailKey) {
      this.detailKey = key;
      // Line by line, keeping the nodes: an open card's details may be what the user is reading.
      const items = this.details.children;
      p.details.forEach((d, i) => {
        const li = items[i] ?? this.details.appendChild(el('li'));
        li.classList.remove('spare');
        setText(li, d);
      });
      // An open card keeps its height while it is read: a line the window no longer has stays as a blank line
      // (until the card is closed), instead of the card shrinking and growing by a line or two every window.
      for (let i = p.details.length; i < items.length; i++) {
        items[i].classList.add('spare');
        setText(items[i], '\u00a0');
      }
      if (this.details.hidden) while (items.length > p.details.length) items[items.length - 1].remove();
    }
    this.toggle.hidden = p.details.length === 0;
    this.sparks[0].update(p.cpuPercent);
    this.sparks[1].update(p.rssMb);
    this.sparks[2].update(p.faultsPerSec);
  }
}

class TableRow {
  readonly el = el('tr');
  private readonly cells = [el('td'), el('td'), el('td', 'num'), el('td', 'num'), el('td', 'summary')];

  constructor(tgid: number) {
    this.el.tabIndex = 0;
    this.el.dataset.nav = 'rows';
    this.el.dataset.tgid = String(tgid);
    this.el.title = 'Enter: select it in the Diagnoses view';
    this.el.append(...this.cells);
  }

  update(r: ProcessRow): void {
    setText(this.cells[0], name(r));
    setText(this.cells[1], r.label);
    setText(this.cells[2], formatCpu(r.coreCpuPercent));
    setText(this.cells[3], mib(r.rssMb));
    setText(this.cells[4], r.summary);
  }
}

/** One aggressor → victim pair; both names are buttons that select that process in the tree. */
class EdgeRow {
  readonly el = el('li', 'edge-row');
  private readonly aggressor = el('button', 'link');
  private readonly victim = el('button', 'link');
  private readonly count = el('span', 'count');
  private readonly arrow = el('span', 'arrow', ' kept waiting ');
  private readonly bar = el('span', 'weight');
  private tgids = { a: 0, v: 0 };

  constructor() {
    this.aggressor.dataset.nav = 'edges';
    this.aggressor.addEventListener('click', () =>
      vscode.postMessage({ type: 'reveal', tgid: this.tgids.a }),
    );
    this.victim.addEventListener('click', () => vscode.postMessage({ type: 'reveal', tgid: this.tgids.v }));
    this.el.append(this.aggressor, this.arrow, this.victim, this.count, this.bar);
  }

  update(e: PreemptEdge, max: number): void {
    this.tgids = { a: e.aggressor.tgid, v: e.victim.tgid };
    setText(this.aggressor, name(e.aggressor));
    setText(this.victim, name(e.victim));
    setText(this.arrow, e.unit === 'wait' ? ' kept waiting ' : ' preempted ');
    setText(
      this.count,
      e.unit === 'wait' ? ` waited ${formatCpu(e.count)} of a core` : ` ${formatCount(e.count)} preemptions`,
    );
    this.bar.style.width = `${Math.max(2, (80 * e.count) / max).toFixed(0)}px`;
  }
}

const time = (ms: number) => new Date(ms).toLocaleTimeString();

/** One episode of the alert timeline: "14:01:05 – 14:02:10 python3 (123) OOM risk (exited)". */
class EpisodeRow {
  readonly el = el('li', 'episode');
  private readonly when = el('span', 'when');
  private readonly who = el('button', 'link');
  private readonly what = el('strong');
  private readonly state = el('span', 'state');
  private readonly why = el('span', 'summary');
  private tgid = 0;

  constructor() {
    this.who.dataset.nav = 'timeline';
    this.who.addEventListener('click', () => vscode.postMessage({ type: 'reveal', tgid: this.tgid }));
    this.el.append(this.when, this.who, this.what, this.state, this.why);
  }

  update(r: TimelineRow): void {
    this.tgid = r.tgid;
    this.el.className = `episode ${LABEL_CLASS[r.label] ?? ''} ${r.state}`;
    setText(
      this.when,
      r.state === 'ongoing' ? `since ${time(r.start)}` : `${time(r.start)} – ${time(r.last)}`,
    );
    setText(this.who, name(r));
    setText(this.what, r.label);
    setText(
      this.state,
      r.state === 'ongoing' ? 'ongoing' : r.state === 'exited' ? 'until it exited' : 'ended',
    );
    setText(this.why, r.cause);
  }
}

class CoreBar {
  readonly el = el('div', 'core');
  private readonly label = el('span', 'core-name');
  private readonly fill = el('span', 'core-fill');
  private readonly value = el('span', 'core-value');

  constructor() {
    const track = el('span', 'core-track');
    track.appendChild(this.fill);
    this.el.append(this.label, track, this.value);
  }

  update(c: { cpu: number; busyPercent: number; saturated: boolean }): void {
    setText(this.label, `CPU ${c.cpu}`);
    this.fill.style.width = `${Math.min(100, Math.max(0, c.busyPercent)).toFixed(1)}%`;
    this.fill.classList.toggle('hot', c.saturated);
    setText(this.value, `${formatPercent(c.busyPercent)} busy`);
  }
}

// ---- the page, built once

const statusEl = document.getElementById('status') as HTMLElement;
const root = document.getElementById('root') as HTMLElement;

function section(key: string, title: string, open: boolean, ...body: HTMLElement[]): HTMLElement {
  const c = el('vscode-collapsible');
  c.dataset.key = key;
  c.setAttribute('title', title);
  if (open) c.setAttribute('open', '');
  c.append(...body);
  return c;
}

const procsBox = el('div', 'procs');
procsBox.setAttribute('role', 'list');
const procsEmpty = el('p', 'empty', 'No process of this scope has been active yet.');
const tableBody = el('tbody');
tableBody.dataset.hold = 'list'; // re-sorted every window: see hold.ts
const table = el('table', 'all');
{
  const head = el('tr');
  for (const h of ['Process', 'Diagnosis', 'CPU (% of a core)', 'RSS', 'Cause'])
    head.appendChild(el('th', undefined, h));
  const thead = el('thead');
  thead.appendChild(head);
  table.append(thead, tableBody);
}
const tableNote = el('p', 'legend');
const timelineBox = el('ul', 'timeline');
const timelineEmpty = el('p', 'empty', 'No alert in this session yet.');
const edgesBox = el('ul', 'edges');
edgesBox.dataset.hold = 'list';
const edgesEmpty = el('p', 'empty', 'No involuntary preemptions between shown processes.');
// The pairs form a stable list of at most 8 (see DashboardHistory), so the box rarely changes height; it still keeps
// the tallest height it has had this session, so the sections below it (Cores, Hotspot overhead) do not climb and
// fall while someone reads them, scrolled to the bottom (at most 8 rows now, where it was 15).
const edgesArea = el('div', 'edges-area');
edgesArea.append(edgesEmpty, edgesBox);
let edgesReserved = 0;
function reserveEdgesHeight(): void {
  const h = edgesArea.offsetHeight; // 0 while the section is closed: nothing to keep then
  if (h > edgesReserved) {
    edgesReserved = h;
    edgesArea.style.minHeight = `${h}px`;
  }
}
const coresBox = el('div', 'cores');
const selfCpu = new Sparkline('helper CPU (% of a core)', formatCpu);
const selfText = el('p');
const dropsText = el('p', 'warn');
const selfBox = el('div', 'self');
selfBox.append(selfCpu.el, selfText, dropsText);
const coresSection = section('cores', 'Cores', true, coresBox);
root.append(
  section('procs', 'Processes', true, procsEmpty, procsBox),
  section('timeline', 'Alert timeline', true, timelineEmpty, timelineBox),
  section('all', 'All processes', false, tableNote, table),
  section(
    'preemptions',
    'Preemptions',
    true,
    el(
      'p',
      'legend',
      'who kept whom waiting for a CPU, by the wait (% of one core, this window); click a name to select it',
    ),
    edgesArea,
  ),
  coresSection,
  section('self', 'Hotspot overhead', true, selfBox),
);

const cards = new KeyedList<ProcessSeries, ProcessCard>(
  procsBox,
  (p) => p.tgid,
  (p) => new ProcessCard(p.tgid),
  (c, p) => c.update(p),
);
const rows = new KeyedList<ProcessRow, TableRow>(
  tableBody,
  (r) => r.tgid,
  (r) => new TableRow(r.tgid),
  (v, r) => v.update(r),
);
const edges = new KeyedList<PreemptEdge & { max: number }, EdgeRow>(
  edgesBox,
  (e) => `${e.aggressor.tgid}>${e.victim.tgid}`,
  () => new EdgeRow(),
  (v, e) => v.update(e, e.max),
);
const episodes = new KeyedList<TimelineRow, EpisodeRow>(
  timelineBox,
  (r) => r.key,
  () => new EpisodeRow(),
  (v, r) => v.update(r),
);
const cores = new KeyedList<DashboardModel['cores'][number], CoreBar>(
  coresBox,
  (c) => c.cpu,
  () => new CoreBar(),
  (v, c) => v.update(c),
);

let revealed: number | undefined;
const scroll = scrollHold(root);

function render(m: DashboardModel): void {
  setText(
    statusEl,
    `Window ${m.seq} · ${new Date(m.ts).toLocaleTimeString()} · source: ${m.source} · ${m.totalShown} processes shown${m.pressure ? ` · ${m.pressure}` : ''}`,
  );
  procsEmpty.hidden = m.processes.length > 0;
  cards.update(m.processes);
  setText(
    tableNote,
    m.totalShown > m.rows.length
      ? `The ${m.rows.length} most severe of ${m.totalShown}. Enter or double-click selects a row in the Diagnoses view.`
      : 'Enter or double-click selects a row in the Diagnoses view.',
  );
  rows.update(m.rows);
  timelineEmpty.hidden = m.timeline.length > 0;
  episodes.update(m.timeline);
  const max = Math.max(1, ...m.edges.map((e) => e.count));
  edgesEmpty.hidden = m.edges.length > 0;
  edges.update(m.edges.map((e) => ({ ...e, max })));
  coresSection.setAttribute('title', `Cores${m.perCoreSaturation.length ? ' — saturated' : ''}`);
  cores.update(m.cores);
  selfCpu.update(m.self.cpuPercentOfCore);
  setText(
    selfText,
    `helper RSS ${mib(m.self.rssMb)} · reads the kernel's counters in ${m.self.drainMs.toFixed(2)} ms per window`,
  );
  const drops = Object.entries(m.drops).filter(([, n]) => n > 0);
  dropsText.hidden = drops.length === 0;
  setText(
    dropsText,
    drops.length ? `Map full, updates dropped: ${drops.map(([k, n]) => `${k} ${n}`).join(', ')}` : '',
  );
  reserveEdgesHeight(); // last: its read lays the page out once, after every write of this window
}

function highlight(tgid: number): void {
  revealed = tgid;
  for (const e of document.querySelectorAll('.proc.revealed')) e.classList.remove('revealed');
  document.getElementById(`proc-${tgid}`)?.classList.add('revealed');
}

keyboardNavigation(root, {
  activate(item) {
    const tgid = Number(item.dataset.tgid);
    if (!tgid) return;
    if (item.dataset.nav === 'procs') {
      const card = cards.view(tgid);
      card?.setExpanded(!expanded.has(tgid));
    } else vscode.postMessage({ type: 'reveal', tgid });
  },
});
root.addEventListener('dblclick', (ev) => {
  const row = (ev.target as HTMLElement).closest<HTMLElement>('tr[data-tgid]');
  if (row) vscode.postMessage({ type: 'reveal', tgid: Number(row.dataset.tgid) });
});

window.addEventListener('message', (ev: MessageEvent<ToWebview>) => {
  const m = ev.data;
  if (m.type === 'model') scroll.hold(() => render(m.model));
  else if (m.type === 'reveal') {
    highlight(m.tgid);
    const card = document.getElementById(`proc-${m.tgid}`);
    card?.scrollIntoView({ block: 'center' });
    card?.focus({ preventScroll: true });
  } else if (m.type === 'section') {
    const c = root.querySelector<HTMLElement & { open?: boolean }>(`vscode-collapsible[data-key="${m.key}"]`);
    if (c) {
      c.open = true;
      c.setAttribute('open', '');
      c.scrollIntoView({ block: 'start' });
    }
  } else if (m.type === 'reset') {
    setText(statusEl, m.text);
    for (const list of [cards, rows, edges, cores, episodes]) list.update([]);
    scroll.clear();
    edgesReserved = 0;
    edgesArea.style.minHeight = '';
    timelineEmpty.hidden = false;
    procsEmpty.hidden = false;
    edgesEmpty.hidden = false;
  }
});
vscode.postMessage({ type: 'ready' });
