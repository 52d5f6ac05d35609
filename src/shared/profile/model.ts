// A symbolized profile and what is computed from it: hot functions (self and total shares), the call tree.
// Pure: built by src/host/profile/symbolize.ts, read by the CLI's formats and the profile view.
import type { ProfileResult, ProfileThread } from '../wire/profile';

export interface Frame {
  /** What people read: "fib (bench.js:12)", "hot_a (twohot.c:20)", "[twohot: no symbols (stripped)]". */
  name: string;
  /** The function alone ("fib"), for formats with separate name and file fields. */
  func: string;
  kind: 'native' | 'js' | 'kernel' | 'unnamed';
  /** Basename of the mapped file (the binary or library), or "[kernel]", "[jit]". */
  module: string;
  /** Full path of the source file, to open it; with the line where the function starts (1-based). */
  file?: string;
  line?: number;
  /** Why a frame has no name, when it has none: "no symbols: stripped", "JIT without a perf map", … */
  reason?: string;
}

export interface Stack {
  /** Indices into SymbolizedProfile.frames, root first. */
  frames: number[];
  count: number;
  tid: number;
}

/** The helper's figures of the run (see ProfileResult), with the stacks named. */
export interface SymbolizedProfile
  extends Pick<
    ProfileResult,
    'pid' | 'frequency' | 'startedAt' | 'durationMs' | 'samples' | 'lost' | 'omitted' | 'ended'
  > {
  /** The process's name and command line when it was profiled ('' when unknown). */
  comm: string;
  threads: ProfileThread[];
  frames: Frame[];
  stacks: Stack[];
  /** Sentences for people: why frames are unnamed and how to fix it, a partial profile, lost samples. */
  notes: string[];
}

export interface HotFunction {
  frame: number;
  /** Samples with this frame as the leaf, and with it anywhere on the stack (counted once per stack). */
  self: number;
  total: number;
}

/** Functions by self samples, then total: what `top` prints and the view's table lists. */
export function hotFunctions(p: SymbolizedProfile): HotFunction[] {
  const self = new Float64Array(p.frames.length);
  const total = new Float64Array(p.frames.length);
  // The last stack each frame was counted in: a recursive frame counts once per stack, without a set per stack.
  const seenIn = new Int32Array(p.frames.length).fill(-1);
  const extra = new Map<number, { self: number; total: number; seenIn: number }>(); // indices past `frames`
  for (let si = 0; si < p.stacks.length; si++) {
    const s = p.stacks[si];
    const leafAt = s.frames.length - 1;
    for (let k = 0; k <= leafAt; k++) {
      const f = s.frames[k];
      if (f >= 0 && f < total.length) {
        if (seenIn[f] !== si) {
          seenIn[f] = si;
          total[f] += s.count;
        }
        if (k === leafAt) self[f] += s.count;
      } else {
        const e = extra.get(f) ?? { self: 0, total: 0, seenIn: -1 };
        if (e.seenIn !== si) {
          e.seenIn = si;
          e.total += s.count;
        }
        if (k === leafAt) e.self += s.count;
        extra.set(f, e);
      }
    }
  }
  const out: HotFunction[] = [];
  for (let f = 0; f < total.length; f++)
    if (total[f] > 0) out.push({ frame: f, self: self[f], total: total[f] });
  for (const [frame, e] of extra) out.push({ frame, self: e.self, total: e.total });
  return out.sort((a, b) => b.self - a.self || b.total - a.total || a.frame - b.frame);
}

/** Samples in the stacks (what the shares are of; `samples` may also count stacks left out of the message). */
export function stackSamples(p: SymbolizedProfile): number {
  let n = 0;
  for (const s of p.stacks) n += s.count;
  return n;
}

export interface TreeNode {
  frame: number;
  /** Samples in this node and below, and in this node as the leaf. */
  total: number;
  self: number;
  children: TreeNode[];
}

/** The call tree, root first: one root node (frame -1) whose children are the outermost frames. */
export function callTree(p: SymbolizedProfile): TreeNode {
  const root: TreeNode = { frame: -1, total: 0, self: 0, children: [] };
  const index = new Map<TreeNode, Map<number, TreeNode>>();
  for (const s of p.stacks) {
    let node = root;
    node.total += s.count;
    for (const f of s.frames) {
      let kids = index.get(node);
      if (!kids) {
        kids = new Map();
        index.set(node, kids);
      }
      let child = kids.get(f);
      if (!child) {
        child = { frame: f, total: 0, self: 0, children: [] };
        kids.set(f, child);
        node.children.push(child);
      }
      child.total += s.count;
      node = child;
    }
    node.self += s.count;
  }
  const sort = (n: TreeNode) => {
    n.children.sort((a, b) => b.total - a.total);
    for (const c of n.children) sort(c);
  };
  sort(root);
  return root;
}

/** "fib (bench.js:12) 64 %": the hottest function by self share, for the diagnosis and the CLI's summary line. */
export function hottest(p: SymbolizedProfile): { name: string; share: number } | undefined {
  const top = hotFunctions(p)[0];
  const n = stackSamples(p);
  return top && n ? { name: p.frames[top.frame].name, share: (top.self / n) * 100 } : undefined;
}
