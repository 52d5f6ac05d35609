// The profile view: an icicle flame graph (root on top) and a searchable table of hot functions. A click on a
// frame with a known file and line asks the extension to open it. Every name arrives as plain text and is set
// with textContent, never as HTML.
import {
  type FromProfileView,
  icicle,
  type ProfileView,
  type ToProfileView,
} from '../../shared/profile/view';

declare function acquireVsCodeApi(): { postMessage(m: FromProfileView): void };
const vscode = acquireVsCodeApi();
const ROW_PX = 18;

const el = <K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};
const pct = (n: number, of: number) => `${((n / of) * 100).toFixed(1)} %`;

/** A stable hue per module, warm for native code, green for JIT, blue for the kernel, grey when unnamed. */
function colour(p: ProfileView, i: number): string {
  const f = p.frames[i];
  let h = 0;
  for (const c of f.func) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  const l = 55 + (h % 15);
  if (f.kind === 'unnamed') return `hsl(0 0% ${l}%)`;
  if (f.kind === 'kernel') return `hsl(${200 + (h % 30)} 60% ${l}%)`;
  if (f.kind === 'js') return `hsl(${95 + (h % 40)} 55% ${l - 10}%)`;
  return `hsl(${15 + (h % 35)} 80% ${l}%)`;
}

let current: ProfileView | undefined;
let query = '';

function open(frame: number): void {
  const f = current?.frames[frame];
  if (f?.file && f.line) vscode.postMessage({ type: 'open', frame });
}

function renderFlame(p: ProfileView, host: HTMLElement): void {
  host.replaceChildren();
  const width = Math.max(host.clientWidth, 300);
  const { boxes, depth } = icicle(p, 2 / width);
  host.style.height = `${(depth + 1) * ROW_PX}px`;
  const n = p.samples;
  const frag = document.createDocumentFragment();
  const q = query.toLowerCase();
  for (const b of boxes) {
    const f = p.frames[b.frame];
    const d = el('div', 'frame');
    d.style.left = `${b.x * 100}%`;
    d.style.width = `${b.w * 100}%`;
    d.style.top = `${b.depth * ROW_PX}px`;
    d.style.background = colour(p, b.frame);
    d.dataset.frame = String(b.frame);
    if (q && !f.name.toLowerCase().includes(q)) d.classList.add('dim');
    if (f.file && f.line) d.classList.add('link');
    if (b.w * width > 24) d.textContent = f.name;
    d.title = `${f.name}\n${pct(b.total, n)} total, ${pct(b.self, n)} self${f.reason ? `\n${f.reason}` : ''}${f.file ? `\n${f.file}:${f.line}` : ''}`;
    frag.append(d);
  }
  host.append(frag);
}

function renderTable(p: ProfileView, body: HTMLElement): void {
  body.replaceChildren();
  const n = p.samples;
  const q = query.toLowerCase();
  for (const h of p.hot) {
    const f = p.frames[h.frame];
    if (q && !f.name.toLowerCase().includes(q)) continue;
    const tr = el('tr');
    tr.dataset.frame = String(h.frame);
    const name = el('td', f.file && f.line ? 'name link' : 'name', f.name);
    if (f.reason) name.title = f.reason;
    tr.append(
      el('td', 'num', pct(h.self, n)),
      el('td', 'num', pct(h.total, n)),
      name,
      el('td', 'module', f.module),
    );
    body.append(tr);
    if (body.childElementCount >= 500) break;
  }
}

function render(m: ToProfileView): void {
  const p = m.view;
  current = p;
  const root = document.getElementById('root')!;
  root.replaceChildren();
  const head = el('header');
  head.append(el('h1', undefined, p.title), el('p', 'summary', p.summary));
  for (const note of p.notes) head.append(el('p', 'note', note));
  const search = el('input', 'search');
  search.type = 'search';
  search.placeholder = 'Search functions';
  search.setAttribute('aria-label', 'Search functions');
  search.value = query;
  head.append(search);
  const flame = el('div', 'flame');
  flame.setAttribute('role', 'img');
  flame.setAttribute('aria-label', 'Flame graph, root at the top');
  const table = el('table', 'hot');
  const thead = el('thead');
  const hr = el('tr');
  for (const t of ['Self', 'Total', 'Function', 'Module']) hr.append(el('th', undefined, t));
  thead.append(hr);
  const body = el('tbody');
  table.append(thead, body);
  root.append(head, flame, table);
  const t0 = performance.now();
  renderFlame(p, flame);
  renderTable(p, body);
  document.body.dataset.renderMs = (performance.now() - t0).toFixed(1);
  search.addEventListener('input', () => {
    query = search.value;
    renderFlame(p, flame);
    renderTable(p, body);
  });
  const onClick = (e: Event) => {
    const t = (e.target as HTMLElement).closest<HTMLElement>('[data-frame]');
    if (t) open(Number(t.dataset.frame));
  };
  flame.addEventListener('click', onClick);
  body.addEventListener('click', onClick);
  let resize: number | undefined;
  window.addEventListener('resize', () => {
    clearTimeout(resize);
    resize = window.setTimeout(() => renderFlame(p, flame), 100);
  });
}

window.addEventListener('message', (e: MessageEvent<ToProfileView>) => {
  if (e.data?.type === 'profile') render(e.data);
});
vscode.postMessage({ type: 'ready' });
