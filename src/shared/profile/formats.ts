// The profile's export formats, from a symbolized profile. Pure (bytes or text out; the CLI writes them).
// - folded: flamegraph.pl's collapsed stacks, root first, "a;b;c N", summing to the stacks' samples.
// - pprof: profile.proto (go tool pprof, Pyroscope, Parca), encoded by pprof-format.
// - cpuprofile: the V8/Chrome DevTools JSON VS Code's own profile viewer opens.
// - speedscope: speedscope's file format ("sampled" profile, one per thread group).
import { Line, Location, Function as PFunction, Profile, Sample, StringTable, ValueType } from 'pprof-format';
import { callTree, type SymbolizedProfile, type TreeNode } from './model';

export type Format = 'top' | 'folded' | 'pprof' | 'cpuprofile' | 'speedscope';
export const FORMATS: readonly Format[] = ['top', 'folded', 'pprof', 'cpuprofile', 'speedscope'];

/** flamegraph.pl treats ';' as the separator and the last space as the count's: neither may be in a name. */
const foldedName = (s: string) => s.replace(/;/g, ':').replace(/[\r\n]/g, ' ');

export function folded(p: SymbolizedProfile): string {
  const lines = new Map<string, number>();
  for (const s of p.stacks) {
    const key = s.frames.map((f) => foldedName(p.frames[f].name)).join(';');
    lines.set(key, (lines.get(key) ?? 0) + s.count);
  }
  return [...lines].map(([k, n]) => `${k} ${n}\n`).join('');
}

export function pprof(p: SymbolizedProfile): Uint8Array {
  const strings = new StringTable();
  const periodNs = Math.round(1e9 / p.frequency);
  const functions = p.frames.map(
    (f, i) =>
      new PFunction({
        id: i + 1,
        name: strings.dedup(f.func),
        systemName: strings.dedup(f.name),
        filename: strings.dedup(f.file ?? f.module),
        startLine: f.line ?? 0,
      }),
  );
  const locations = p.frames.map(
    (f, i) => new Location({ id: i + 1, line: [new Line({ functionId: i + 1, line: f.line ?? 0 })] }),
  );
  const samples = p.stacks.map(
    (s) =>
      new Sample({
        // pprof lists a sample's locations leaf first.
        locationId: [...s.frames].reverse().map((f) => f + 1),
        value: [s.count, s.count * periodNs],
      }),
  );
  const profile = new Profile({
    sampleType: [
      new ValueType({ type: strings.dedup('samples'), unit: strings.dedup('count') }),
      new ValueType({ type: strings.dedup('cpu'), unit: strings.dedup('nanoseconds') }),
    ],
    sample: samples,
    location: locations,
    function: functions,
    stringTable: strings,
    timeNanos: BigInt(p.startedAt) * 1_000_000n,
    durationNanos: p.durationMs * 1_000_000,
    periodType: new ValueType({ type: strings.dedup('cpu'), unit: strings.dedup('nanoseconds') }),
    period: periodNs,
    comment: [strings.dedup(`hotspot profile of ${p.comm} (${p.pid}) at ${p.frequency} Hz`)],
  });
  return profile.encode();
}

interface CpuNode {
  id: number;
  callFrame: {
    functionName: string;
    scriptId: string;
    url: string;
    lineNumber: number;
    columnNumber: number;
  };
  hitCount: number;
  children: number[];
}

/**
 * The .cpuprofile: a node per call-tree node, `samples` listing the leaf node of each sample in time order and
 * `timeDeltas` their spacing. Stacks are aggregated, so samples are laid out stack after stack at the sampling
 * period (the viewer's totals and flame chart are right; the time axis is not a timeline).
 */
export function cpuprofile(p: SymbolizedProfile): string {
  const nodes: CpuNode[] = [];
  const samples: number[] = [];
  const periodUs = Math.round(1e6 / p.frequency);
  const visit = (n: TreeNode): number => {
    const id = nodes.length + 1;
    const f = n.frame < 0 ? undefined : p.frames[n.frame];
    const node: CpuNode = {
      id,
      callFrame: {
        functionName: f ? f.func : '(root)',
        scriptId: '0',
        url: f?.file ? `file://${f.file}` : '',
        // 0-based in this format.
        lineNumber: f?.line ? f.line - 1 : -1,
        columnNumber: f?.line ? 0 : -1,
      },
      hitCount: n.self,
      children: [],
    };
    nodes.push(node);
    for (let i = 0; i < n.self; i++) samples.push(id);
    node.children = n.children.map(visit);
    return id;
  };
  visit(callTree(p));
  const startTime = p.startedAt * 1000;
  return JSON.stringify({
    nodes,
    startTime,
    endTime: startTime + samples.length * periodUs,
    samples,
    timeDeltas: samples.map(() => periodUs),
  });
}

export function speedscope(p: SymbolizedProfile): string {
  const samples: number[][] = [];
  const weights: number[] = [];
  for (const s of p.stacks) {
    samples.push(s.frames);
    weights.push(s.count);
  }
  const total = weights.reduce((a, b) => a + b, 0);
  return JSON.stringify({
    $schema: 'https://www.speedscope.app/file-format-schema.json',
    shared: {
      frames: p.frames.map((f) => ({ name: f.name, ...(f.file ? { file: f.file, line: f.line } : {}) })),
    },
    profiles: [
      {
        type: 'sampled',
        name: `${p.comm} (${p.pid})`,
        unit: 'none',
        startValue: 0,
        endValue: total,
        samples,
        weights,
      },
    ],
    name: `${p.comm} (${p.pid}), ${p.frequency} Hz`,
    exporter: 'hotspot',
  });
}
