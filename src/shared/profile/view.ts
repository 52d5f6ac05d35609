// Messages between the profile view's webview and the extension, and the icicle layout both sides agree on. Pure.
// The extension aggregates the stacks into what the view draws (the call tree, pruned to what can be seen, and the
// hot functions) before posting: the webview then receives a few thousand numbers instead of every stack, and
// only lays boxes out.
import { type Frame, type HotFunction, hotFunctions, type SymbolizedProfile, stackSamples } from './model';

/** Boxes narrower than this share of all samples are left out of the message: the view leaves out those under
 *  2 px, so it draws the same boxes up to 4,096 px wide (a 4K screen at 100 %). */
export const VIEW_MIN_FRACTION = 2 / 4096;

/** The call tree in preorder (a node, then its children hottest first), as parallel arrays. */
export interface FlatTree {
  frame: number[];
  /** 0 for the outermost frames. */
  depth: number[];
  total: number[];
  self: number[];
}

export interface ProfileView {
  title: string;
  summary: string;
  notes: string[];
  frames: Frame[];
  /** Samples in the stacks: what every share is of. */
  samples: number;
  tree: FlatTree;
  /** Every function, by self then total samples. */
  hot: HotFunction[];
}

export type ToProfileView = { type: 'profile'; view: ProfileView };
export type FromProfileView = { type: 'ready' } | { type: 'open'; frame: number };

/** A webview is untrusted input too: only these shapes are acted on. */
export function isFromProfileView(m: unknown): m is FromProfileView {
  if (typeof m !== 'object' || m === null) return false;
  const o = m as Record<string, unknown>;
  if (o.type === 'ready') return true;
  return o.type === 'open' && Number.isInteger(o.frame) && (o.frame as number) >= 0;
}

/**
 * The call tree of `p` with nodes under `minFraction` of all samples left out, with their subtrees (a child is never
 * wider than its parent). Built a depth at a time, each stack following its path only while that path is wide
 * enough: most of a large profile's stacks are unique a few frames down, and a whole tree of them (100k nodes for
 * 5,000 stacks) cost the view most of its render time.
 */
export function flatTree(p: SymbolizedProfile, minFraction = VIEW_MIN_FRACTION): FlatTree {
  const width = p.frames.length + 1; // a (parent, frame) pair as one number: parent * width + frame + 1
  const stacks = p.stacks;
  let all = 0;
  for (const s of stacks) all += s.count;
  const min = Math.max(all * minFraction, Number.MIN_VALUE);
  const frame: number[] = [-1];
  const total: number[] = [all];
  const self: number[] = [0];
  const parent: number[] = [-1];
  const at = new Int32Array(stacks.length); // each stack's node at the depth before
  let alive: number[] = [];
  for (let i = 0; i < stacks.length; i++) if (stacks[i].frames.length > 0) alive.push(i);
  for (let d = 0; alive.length > 0; d++) {
    const sums = new Map<number, number>(); // iterates in first-seen order: the call tree's order for ties
    for (const i of alive) {
      const key = at[i] * width + stacks[i].frames[d] + 1;
      sums.set(key, (sums.get(key) ?? 0) + stacks[i].count);
    }
    const ids = new Map<number, number>();
    for (const [key, t] of sums)
      if (t >= min) {
        ids.set(key, frame.length);
        parent.push(Math.floor(key / width));
        frame.push((key % width) - 1);
        total.push(t);
        self.push(0);
      }
    const next: number[] = [];
    for (const i of alive) {
      const s = stacks[i];
      const id = ids.get(at[i] * width + s.frames[d] + 1);
      if (id === undefined) continue;
      at[i] = id;
      if (d + 1 < s.frames.length) next.push(i);
      else self[id] += s.count;
    }
    alive = next;
  }
  const children: number[][] = frame.map(() => []);
  for (let id = 1; id < frame.length; id++) children[parent[id]].push(id);
  const out: FlatTree = { frame: [], depth: [], total: [], self: [] };
  const visit = (node: number, depth: number) => {
    const kids = children[node];
    // Hottest first; equal ones in the order they were first seen.
    kids.sort((a, b) => total[b] - total[a] || a - b);
    for (const c of kids) {
      out.frame.push(frame[c]);
      out.depth.push(depth);
      out.total.push(total[c]);
      out.self.push(self[c]);
      visit(c, depth + 1);
    }
  };
  visit(0, 0);
  return out;
}

/** What the webview needs to draw `p`. */
export function profileView(p: SymbolizedProfile, title: string): ProfileView {
  const threads = p.threads.length === 1 ? '1 thread' : `${p.threads.length} threads`;
  return {
    title,
    summary: `${p.samples} samples in ${(p.durationMs / 1000).toFixed(1)} s at ${p.frequency} Hz, ${threads}`,
    notes: p.notes,
    frames: p.frames,
    samples: stackSamples(p),
    tree: flatTree(p),
    hot: hotFunctions(p),
  };
}

export interface IcicleBox {
  frame: number;
  depth: number;
  /** Left edge and width as fractions of all samples. */
  x: number;
  w: number;
  total: number;
  self: number;
}

/**
 * The icicle (root at the top, callees below) as boxes, leaving out those narrower than `minFraction` (they would
 * be under a pixel or two wide): the count of boxes is then bounded by the width, whatever the number of stacks.
 */
export function icicle(
  v: Pick<ProfileView, 'tree' | 'samples'>,
  minFraction: number,
): { boxes: IcicleBox[]; depth: number } {
  const boxes: IcicleBox[] = [];
  let depth = 0;
  if (v.samples <= 0) return { boxes, depth };
  const { frame, depth: level, total, self } = v.tree;
  // The next free left edge at each depth: a node starts where its parent starts, after its earlier siblings.
  const cursor: number[] = [0];
  let skipBelow = Number.POSITIVE_INFINITY;
  for (let i = 0; i < frame.length; i++) {
    const d = level[i];
    if (d > skipBelow) continue;
    skipBelow = Number.POSITIVE_INFINITY;
    const x = cursor[d] ?? 0;
    const w = total[i] / v.samples;
    cursor[d] = x + w;
    cursor[d + 1] = x;
    if (w < minFraction) {
      skipBelow = d;
      continue;
    }
    boxes.push({ frame: frame[i], depth: d, x, w, total: total[i], self: self[i] });
    if (d + 1 > depth) depth = d + 1;
  }
  return { boxes, depth };
}
