// The dashboard's webview: renders DashboardModel with @vscode-elements components and inline SVG.
// Process names come from the observed machine, so text is only ever set through textContent.
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import type { DashboardModel, FromWebview, ProcessSeries, ToWebview } from '../shared/dashboard';

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

/** A sparkline; NaN points (process absent) break the line. */
function sparkline(values: number[], title: string, fmt: (v: number) => string): HTMLElement {
  const w = 160;
  const h = 32;
  const box = el('figure', 'spark');
  const s = svg('svg', { viewBox: `0 0 ${w} ${h}`, width: w, height: h, role: 'img', 'aria-label': title });
  const finite = values.filter(Number.isFinite);
  const max = Math.max(1e-9, ...finite);
  const step = values.length > 1 ? w / (values.length - 1) : w;
  let d = '';
  let pen = false;
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) {
      pen = false;
      return;
    }
    const x = (i * step).toFixed(1);
    const y = (h - 2 - ((h - 4) * v) / max).toFixed(1);
    d += `${pen ? 'L' : 'M'}${x},${y} `;
    pen = true;
  });
  if (d) s.appendChild(svg('path', { d, class: 'line' }));
  box.appendChild(s);
  const last = finite.length ? finite[finite.length - 1] : Number.NaN;
  box.appendChild(el('figcaption', undefined, `${title} ${Number.isFinite(last) ? fmt(last) : '—'}`));
  return box;
}

const num = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
const LABEL_CLASS: Record<string, string> = {
  'OOM risk': 'sev-oom',
  'Mem-thrashing': 'sev-thrash',
  Starved: 'sev-starved',
  'Noisy neighbor': 'sev-noisy',
  'CPU-bound': 'sev-cpu',
  OK: 'sev-ok',
};

function processCard(p: ProcessSeries): HTMLElement {
  const card = el('section', `proc ${LABEL_CLASS[p.label] ?? ''}`);
  card.id = `proc-${p.tgid}`;
  const head = el('div', 'proc-head');
  head.appendChild(el('strong', undefined, `${p.comm} (${p.tgid})`));
  const badge = el('vscode-badge', undefined, p.label);
  head.appendChild(badge);
  head.appendChild(el('span', 'summary', p.summary));
  const filter = el('vscode-button', undefined, 'Filter');
  filter.setAttribute('secondary', '');
  filter.title = 'Show only this process and its descendants';
  filter.addEventListener('click', () => vscode.postMessage({ type: 'filter', tgid: p.tgid }));
  head.appendChild(filter);
  card.appendChild(head);
  const sparks = el('div', 'sparks');
  sparks.appendChild(sparkline(p.cpuPercent, 'CPU % of a core', num));
  sparks.appendChild(sparkline(p.rssMb, 'RSS MiB', num));
  sparks.appendChild(sparkline(p.faultsPerSec, 'faults/s', num));
  card.appendChild(sparks);
  return card;
}

/** Aggressors on the left, victims on the right, an arrow per pair weighted by its count. */
function preemptionGraph(m: DashboardModel): HTMLElement {
  if (!m.edges.length) return el('p', 'empty', 'No involuntary preemptions between shown processes.');
  const left = [...new Map(m.edges.map((e) => [e.aggressor.tgid, e.aggressor])).values()];
  const right = [...new Map(m.edges.map((e) => [e.victim.tgid, e.victim])).values()];
  const rowH = 26;
  const w = 520;
  const h = Math.max(left.length, right.length) * rowH + 10;
  const s = svg('svg', { viewBox: `0 0 ${w} ${h}`, width: w, height: h, class: 'graph', role: 'img' });
  const y = (i: number) => 18 + i * rowH;
  const max = Math.max(...m.edges.map((e) => e.count));
  for (const e of m.edges) {
    const a = left.findIndex((x) => x.tgid === e.aggressor.tgid);
    const v = right.findIndex((x) => x.tgid === e.victim.tgid);
    const line = svg('line', {
      x1: 180,
      y1: y(a) - 4,
      x2: 340,
      y2: y(v) - 4,
      class: 'edge',
      'stroke-width': 1 + (3 * e.count) / max,
    });
    const t = svg('title', {});
    t.textContent = `${e.aggressor.comm} (${e.aggressor.tgid}) preempted ${e.victim.comm} (${e.victim.tgid}) ×${e.count}`;
    line.appendChild(t);
    s.appendChild(line);
  }
  const label = (p: { tgid: number; comm: string }, i: number, x: number, anchor: string) => {
    const t = svg('text', { x, y: y(i), 'text-anchor': anchor });
    t.textContent = `${p.comm} (${p.tgid})`;
    s.appendChild(t);
  };
  for (const [i, p] of left.entries()) label(p, i, 172, 'end');
  for (const [i, p] of right.entries()) label(p, i, 348, 'start');
  const box = el('div');
  box.appendChild(el('p', 'legend', 'aggressor → victim (line width: preemptions this window)'));
  box.appendChild(s);
  return box;
}

function coreBars(m: DashboardModel): HTMLElement {
  const w = 300;
  const rowH = 18;
  const s = svg('svg', {
    viewBox: `0 0 ${w + 110} ${m.cores.length * rowH + 4}`,
    width: w + 110,
    height: m.cores.length * rowH + 4,
    role: 'img',
  });
  m.cores.forEach((c, i) => {
    const t = svg('text', { x: 0, y: i * rowH + 13 });
    t.textContent = `CPU ${c.cpu}`;
    s.appendChild(t);
    s.appendChild(svg('rect', { x: 50, y: i * rowH + 3, width: w, height: 12, class: 'bar-bg' }));
    s.appendChild(
      svg('rect', {
        x: 50,
        y: i * rowH + 3,
        width: (w * c.busyPercent) / 100,
        height: 12,
        class: c.saturated ? 'bar hot' : 'bar',
      }),
    );
    const v = svg('text', { x: w + 56, y: i * rowH + 13 });
    v.textContent = `${c.busyPercent.toFixed(0)}%`;
    s.appendChild(v);
  });
  return s as unknown as HTMLElement;
}

/** Open/closed state of each section by key, so re-rendering every window does not undo the user's choice. */
const sectionOpen = new Map<string, boolean>();

function section(key: string, title: string, body: HTMLElement, open = true): HTMLElement {
  const c = el('vscode-collapsible');
  c.dataset.key = key;
  c.setAttribute('title', title);
  if (sectionOpen.get(key) ?? open) c.setAttribute('open', '');
  c.appendChild(body);
  return c;
}

function rememberSections(): void {
  for (const c of document.querySelectorAll<HTMLElement & { open?: boolean }>('vscode-collapsible[data-key]'))
    if (c.dataset.key && typeof c.open === 'boolean') sectionOpen.set(c.dataset.key, c.open);
}

let revealed: number | undefined;

function render(m: DashboardModel): void {
  const status = document.getElementById('status');
  if (status)
    status.textContent = `Window ${m.seq} · ${new Date(m.ts).toLocaleTimeString()} · source: ${m.source} · ${m.processes.length} processes${m.pressure ? ` · ${m.pressure}` : ''}`;
  const root = document.getElementById('root');
  if (!root) return;
  const procs = el('div', 'procs');
  if (!m.processes.length)
    procs.appendChild(el('p', 'empty', 'No process of this scope has been active yet.'));
  for (const p of m.processes) procs.appendChild(processCard(p));
  const self = el('div', 'self');
  self.appendChild(sparkline(m.self.cpuPercentOfCore, 'helper CPU % of a core', (v) => v.toFixed(2)));
  self.appendChild(
    el(
      'p',
      undefined,
      `helper RSS ${m.self.rssMb.toFixed(0)} MiB · map drain ${m.self.drainMs.toFixed(2)} ms`,
    ),
  );
  const drops = Object.entries(m.drops).filter(([, n]) => n > 0);
  if (drops.length)
    self.appendChild(
      el('p', 'warn', `Map full, updates dropped: ${drops.map(([k, n]) => `${k} ${n}`).join(', ')}`),
    );
  const scroll = window.scrollY;
  rememberSections();
  root.replaceChildren(
    section('procs', 'Processes', procs),
    section('preemptions', 'Preemptions', preemptionGraph(m)),
    section('cores', `Cores${m.perCoreSaturation.length ? ' — saturated' : ''}`, coreBars(m)),
    section('self', 'Hotspot overhead', self, false),
  );

  window.scrollTo(0, scroll);
  if (revealed !== undefined) highlight(revealed);
}

function highlight(tgid: number): void {
  revealed = tgid;
  for (const e of document.querySelectorAll('.proc.revealed')) e.classList.remove('revealed');
  const card = document.getElementById(`proc-${tgid}`);
  card?.classList.add('revealed');
}

window.addEventListener('message', (ev: MessageEvent<ToWebview>) => {
  const m = ev.data;
  if (m.type === 'model') render(m.model);
  else if (m.type === 'reveal') {
    highlight(m.tgid);
    document.getElementById(`proc-${m.tgid}`)?.scrollIntoView({ block: 'center' });
  } else if (m.type === 'reset') {
    const s = document.getElementById('status');
    if (s) s.textContent = m.text;
    document.getElementById('root')?.replaceChildren();
  }
});
vscode.postMessage({ type: 'ready' });
