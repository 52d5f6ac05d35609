// The profile view's model: the extension aggregates stacks into a pruned call tree and the hot functions before
// posting, and the webview lays the icicle out from that. Both must draw exactly what the whole call tree would.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  callTree,
  hotFunctions,
  type SymbolizedProfile,
  stackSamples,
  type TreeNode,
} from '../../src/shared/profile/model';
import {
  flatTree,
  type IcicleBox,
  icicle,
  isFromProfileView,
  profileView,
  VIEW_MIN_FRACTION,
} from '../../src/shared/profile/view';

/** `stacks` distinct stacks of 1-30 frames over `functions` functions, some recursive, counts 1-40. */
function randomProfile(stacks: number, functions: number, seed: number): SymbolizedProfile {
  let x = seed;
  const rand = (n: number) => {
    x = (x * 48271) % 2147483647;
    return x % n;
  };
  const frames = Array.from({ length: functions }, (_, i) => ({
    name: `f${i}`,
    func: `f${i}`,
    kind: 'native' as const,
    module: 'm',
  }));
  const seen = new Set<string>();
  const out: SymbolizedProfile['stacks'] = [];
  while (out.length < stacks) {
    const depth = 1 + rand(30);
    const fs = [rand(3)];
    while (fs.length < depth) fs.push(rand(4) === 0 ? fs[fs.length - 1] : rand(functions));
    if (seen.has(fs.join())) continue;
    seen.add(fs.join());
    out.push({ frames: fs, count: 1 + rand(40), tid: 1 });
  }
  if (stacks > 0) out.push({ frames: [], count: 3, tid: 1 }); // a sample without a stack
  return {
    pid: 1,
    comm: 'x',
    frequency: 99,
    startedAt: 0,
    durationMs: 1000,
    samples: out.reduce((n, s) => n + s.count, 0),
    lost: 0,
    omitted: 0,
    ended: 'duration',
    threads: [{ tid: 1, comm: 'x', samples: 1 }],
    frames,
    stacks: out,
    notes: [],
  };
}

/** The icicle as drawn from the whole call tree (the view's layout before the tree was aggregated for it). */
function referenceIcicle(p: SymbolizedProfile, minFraction: number): { boxes: IcicleBox[]; depth: number } {
  const root = callTree(p);
  const boxes: IcicleBox[] = [];
  let depth = 0;
  const walk = (n: TreeNode, d: number, x: number) => {
    let cx = x;
    for (const c of n.children) {
      const w = c.total / root.total;
      if (w >= minFraction) {
        boxes.push({ frame: c.frame, depth: d, x: cx, w, total: c.total, self: c.self });
        depth = Math.max(depth, d + 1);
        walk(c, d + 1, cx);
      }
      cx += w;
    }
  };
  if (root.total > 0) walk(root, 0, 0);
  return { boxes, depth };
}

function referenceHot(p: SymbolizedProfile) {
  const self = new Map<number, number>();
  const total = new Map<number, number>();
  for (const s of p.stacks) {
    if (!s.frames.length) continue;
    const leaf = s.frames[s.frames.length - 1];
    self.set(leaf, (self.get(leaf) ?? 0) + s.count);
    for (const f of new Set(s.frames)) total.set(f, (total.get(f) ?? 0) + s.count);
  }
  return [...total]
    .map(([frame, t]) => ({ frame, self: self.get(frame) ?? 0, total: t }))
    .sort((a, b) => b.self - a.self || b.total - a.total || a.frame - b.frame);
}

test('the aggregated tree draws the same icicle as the whole call tree, at every width up to 4,096 px', () => {
  for (const [stacks, functions, seed] of [
    [5000, 600, 7],
    [2000, 40, 11],
    [300, 5, 3],
    [1, 1, 5],
    [0, 1, 9],
  ]) {
    const p = randomProfile(stacks, functions, seed);
    const view = profileView(p, 't');
    assert.equal(view.samples, stackSamples(p));
    for (const width of [300, 1000, 1400, 2560, 4096]) {
      const got = icicle(view, 2 / width);
      const want = referenceIcicle(p, 2 / width);
      assert.deepEqual(got, want, `${stacks} stacks, ${width} px`);
    }
    // Everything, with nothing pruned, too.
    assert.deepEqual(icicle({ tree: flatTree(p, 0), samples: view.samples }, 0), referenceIcicle(p, 0));
  }
});

test('the message stays small however many stacks: boxes under 2 px at 4,096 px are not sent', () => {
  const p = randomProfile(5000, 600, 7);
  const view = profileView(p, 't');
  const min = view.samples * VIEW_MIN_FRACTION;
  assert.ok(view.tree.total.every((t) => t >= min));
  assert.ok(
    view.tree.frame.length < flatTree(p, 0).frame.length / 10,
    `${view.tree.frame.length} nodes sent`,
  );
  assert.ok(JSON.stringify(view).length < JSON.stringify(p).length / 4);
});

test('hot functions: self at the leaf, total once per stack (recursion too), as a set per stack counts them', () => {
  for (const seed of [1, 2, 3]) {
    const p = randomProfile(3000, 50, seed);
    assert.deepEqual(hotFunctions(p), referenceHot(p));
  }
});

test('the webview is only obeyed for "ready" and "open" with a frame index', () => {
  assert.ok(isFromProfileView({ type: 'ready' }));
  assert.ok(isFromProfileView({ type: 'open', frame: 3 }));
  for (const bad of [null, 'ready', { type: 'open', frame: -1 }, { type: 'open', frame: 1.5 }, { type: 'x' }])
    assert.equal(isFromProfileView(bad), false);
});
