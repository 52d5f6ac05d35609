// Export round trips: pprof decodes with pprof-format's own decoder, folded sums to the samples, the .cpuprofile has
// what VS Code's viewer reads (nodes, samples, timeDeltas), speedscope's weights sum; hot functions and the tree.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Profile } from 'pprof-format';
import { cpuprofile, folded, pprof, speedscope } from '../../src/shared/profile/formats';
import { callTree, hotFunctions, hottest, type SymbolizedProfile } from '../../src/shared/profile/model';

const profile: SymbolizedProfile = {
  pid: 7,
  comm: 'node',
  frequency: 99,
  startedAt: 1_700_000_000_000,
  durationMs: 2000,
  samples: 100,
  lost: 0,
  omitted: 0,
  ended: 'duration',
  threads: [{ tid: 7, comm: 'node', samples: 100 }],
  frames: [
    { name: 'main', func: 'main', kind: 'native', module: 'node' },
    { name: 'fib (bench.js:12)', func: 'fib', kind: 'js', module: '[jit]', file: '/w/bench.js', line: 12 },
    { name: 'a;b', func: 'a;b', kind: 'native', module: 'x' },
  ],
  stacks: [
    { frames: [0, 1, 1], count: 64, tid: 7 },
    { frames: [0, 1], count: 16, tid: 7 },
    { frames: [0, 2], count: 20, tid: 7 },
  ],
  notes: [],
};

test('hot functions: self counts leaves, total counts each stack once (recursion too)', () => {
  const h = hotFunctions(profile);
  assert.deepEqual(h[0], { frame: 1, self: 80, total: 80 });
  assert.deepEqual(
    h.find((x) => x.frame === 0),
    { frame: 0, self: 0, total: 100 },
  );
  assert.deepEqual(hottest(profile), { name: 'fib (bench.js:12)', share: 80 });
  const root = callTree(profile);
  assert.equal(root.total, 100);
  assert.equal(root.children[0].children[0].total, 80);
});

test('folded: root first, ";" never inside a name, counts sum to the samples', () => {
  const text = folded(profile);
  assert.match(text, /^main;fib \(bench\.js:12\);fib \(bench\.js:12\) 64$/m);
  assert.match(text, /^main;a:b 20$/m);
  const sum = text
    .trim()
    .split('\n')
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  assert.equal(sum, 100);
});

test('pprof: the decoder reads back samples, locations leaf first, function names and files', () => {
  const p = Profile.decode(pprof(profile));
  const str = (i: unknown) => p.stringTable.strings[Number(i)];
  assert.equal(
    p.sample.reduce((n, s) => n + Number(s.value[0]), 0),
    100,
  );
  const first = p.sample[0];
  const leaf = p.function.find(
    (f) => f.id === p.location.find((l) => l.id === first.locationId[0])!.line[0].functionId,
  )!;
  assert.equal(str(leaf.name), 'fib');
  assert.equal(str(leaf.filename), '/w/bench.js');
  assert.equal(Number(p.period), Math.round(1e9 / 99));
  assert.equal(str(p.sampleType[1].type), 'cpu');
});

test('cpuprofile: nodes with callFrames (0-based lines), one sample per hit, a time delta per sample', () => {
  const c = JSON.parse(cpuprofile(profile));
  assert.equal(c.samples.length, 100);
  assert.equal(c.timeDeltas.length, 100);
  assert.equal(c.nodes[0].callFrame.functionName, '(root)');
  const fib = c.nodes.find(
    (n: { callFrame: { functionName: string } }) => n.callFrame.functionName === 'fib',
  );
  assert.equal(fib.callFrame.url, 'file:///w/bench.js');
  assert.equal(fib.callFrame.lineNumber, 11);
  const ids = new Set(c.nodes.map((n: { id: number }) => n.id));
  assert.ok(c.samples.every((s: number) => ids.has(s)));
  assert.ok(c.endTime > c.startTime);
});

test('speedscope: a sampled profile whose weights sum to the samples', () => {
  const s = JSON.parse(speedscope(profile));
  assert.equal(s.profiles[0].type, 'sampled');
  assert.equal(
    s.profiles[0].weights.reduce((a: number, b: number) => a + b, 0),
    100,
  );
  assert.equal(s.shared.frames[1].file, '/w/bench.js');
});
