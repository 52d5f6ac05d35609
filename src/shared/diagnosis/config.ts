// Thresholds and switches of the classifier, loaded from YAML (CLI --config, extension hotspot.configPath) or a
// settings object. One schema drives defaults, validation, error messages and the generated commented file.
// Each label's section holds the default profile's keys first, then the reference tool's (its keys and defaults,
// marked [reference]), which only `profile: reference` reads. Over 400 lines because the schema is one table of
// every key (default, bounds, help text) that the validator, the error messages and the generated file all read.
import { isMap, isScalar, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { PROFILES, type Profile } from './model';

export interface Config {
  /** Which rule set labels processes: 'default' (demand and unreclaimable growth) or 'reference' (the original tool). */
  profile: Profile;
  oom: {
    horizon_sec: number;
    trend_window_sec: number;
    min_trend_sec: number;
    min_growth_mb_per_sec: number;
    sustain_share: number;
    max_sustain_sec: number;
    settling_ratio: number;
    min_leak_mb: number;
    min_leak_headroom_percent: number;
    rss_mb: number;
    rss_ratio: number;
    faults_per_sec: number;
    use_cgroup_limit: boolean;
  };
  cpu_bound: {
    min_demand_percent: number;
    cpu_percent: number;
    core_cpu_percent: number;
    max_faults_per_sec: number;
    max_preempted: number;
  };
  mem_thrashing: {
    min_major_faults_per_sec: number;
    min_pressure_percent: number;
    min_refault_percent: number;
    moderate_faults_per_sec: number;
    moderate_cost_per_fault: number;
    severe_faults_per_sec: number;
    severe_cost_per_fault: number;
    high_faults_per_sec: number;
    max_cpu_percent: number;
  };
  io_bound: {
    min_blocked_percent: number;
    min_blocked_core_percent: number;
  };
  starved: {
    min_wait_percent: number;
    min_wait_core_percent: number;
    min_preempted: number;
    max_cpu_percent: number;
    runq_wait_percent: number;
  };
  noisy_neighbor: {
    min_caused_wait_percent: number;
    min_core_percent: number;
    min_preempts_others: number;
    min_cpu_percent: number;
  };
  rss_trend: {
    window_ticks: number;
    min_delta_mb: number;
    sub_window_samples: boolean;
    absent_grace_windows: number;
  };
  per_core: { saturation_percent: number };
  exclude: string[];
}

type Leaf = { doc: string } & (
  | { kind: 'number'; def: number; min: number; max: number; integer?: boolean }
  | { kind: 'boolean'; def: boolean }
);

const num = (def: number, min: number, max: number, doc: string, integer = false): Leaf => ({
  kind: 'number',
  def,
  min,
  max,
  doc,
  integer,
});
const flag = (def: boolean, doc: string): Leaf => ({ kind: 'boolean', def, doc });
const PCT = 100_000; // Core% can exceed 100 for multi-threaded processes; percents are bounded loosely

const REF = '[reference] ';

/** The schema: section → key → leaf. Order here is the order of the generated file. Every doc names its unit. */
const SCHEMA: Record<Exclude<keyof Config, 'exclude' | 'profile'>, Record<string, Leaf>> = {
  oom: {
    horizon_sec: num(
      1800,
      1,
      1e7,
      'an OOM risk that reaches the limit that will kill it (its cgroup memory limit, else MemAvailable) within this many seconds at its current growth is urgent (an error in the status bar); a slower leak is still reported, as a warning',
    ),
    trend_window_sec: num(
      30,
      2,
      3600,
      'seconds of anonymous + shmem history the growth is judged over: its minima must rise across it (a bounded sawtooth does not)',
    ),
    min_trend_sec: num(
      6,
      1,
      3600,
      'seconds of history needed before a growth is believed (longer than a sawtooth period)',
    ),
    min_growth_mb_per_sec: num(0.25, 0, 1e6, 'growth below this many MiB per second is noise, not a leak'),
    sustain_share: num(
      0.0125,
      0,
      1,
      'a growth must have lasted this share of the time it leaves before the limit (at least min_trend_sec, at most max_sustain_sec) to be a leak: a fast leak shows within seconds, a build whose heap grows for a few seconds does not',
    ),
    max_sustain_sec: num(
      20,
      1,
      3600,
      'seconds of uninterrupted growth after which any growth above the noise is a leak, however far away the limit',
    ),
    settling_ratio: num(
      0.6,
      0,
      1,
      "a growth whose rate now is below this share of its average since it began is settling toward a plateau (a compiler's heap, a cache filling up), not a leak; 0 turns this off",
    ),
    min_leak_mb: num(8, 0, 1e9, 'and it must have grown at least this many MiB …'),
    min_leak_headroom_percent: num(
      0.25,
      0,
      100,
      '… and at least this % of the headroom it had when the growth began (a few MiB of warm-up is not news on a machine with GiBs free)',
    ),
    rss_mb: num(500, 0, 1e9, `${REF}RSS (MiB) at or above which a growing process is an OOM risk`),
    rss_ratio: num(
      0.1,
      0,
      1,
      `${REF}or: RSS as a fraction of memory (0..1) at or above which it is an OOM risk`,
    ),
    faults_per_sec: num(
      200,
      0,
      1e12,
      `${REF}and at least this many page faults per second (it is allocating)`,
    ),
    use_cgroup_limit: flag(
      false,
      `${REF}measure rss_ratio against the process's cgroup memory limit when it has one (containers), not only host RAM`,
    ),
  },
  cpu_bound: {
    min_demand_percent: num(
      90,
      0,
      PCT,
      'CPU-bound when it wants at least this % of one core (on CPU + waiting for a CPU + throttled, every thread)',
    ),
    cpu_percent: num(50, 0, 100, `${REF}share of the whole machine (%) above which a process is CPU-bound …`),
    core_cpu_percent: num(
      90,
      0,
      PCT,
      `${REF}… or share of one core (%) at or above which it is (100 = one full core)`,
    ),
    max_faults_per_sec: num(
      10,
      0,
      1e12,
      `${REF}only if it faults less than this per second (no memory pressure)`,
    ),
    max_preempted: num(50, 0, 1e12, `${REF}and is preempted at most this many times per window`),
  },
  mem_thrashing: {
    min_major_faults_per_sec: num(
      50,
      0,
      1e12,
      'Mem-thrashing when it takes at least this many major faults (pages read back from disk or swap) per second …',
    ),
    min_pressure_percent: num(
      10,
      0,
      100,
      '… while its cgroup (else the machine) stalls on memory at least this % of the time (PSI some avg10; without PSI the major faults alone decide) …',
    ),
    min_refault_percent: num(
      30,
      0,
      PCT,
      "… or while its memory-limited cgroup reads back, per second, at least this % of its major faults' worth of pages its own reclaim had evicted (memory.stat workingset refaults: the limit is smaller than what it uses, however little PSI counts that as a stall)",
    ),
    moderate_faults_per_sec: num(500, 0, 1e12, `${REF}moderate tier: more faults per second than this …`),
    moderate_cost_per_fault: num(0.1, 0, 1e6, `${REF}… each costing more than this many ms of CPU`),
    severe_faults_per_sec: num(1000, 0, 1e12, `${REF}severe tier: more faults per second than this …`),
    severe_cost_per_fault: num(0.5, 0, 1e6, `${REF}… each costing more than this many ms of CPU`),
    high_faults_per_sec: num(
      10000,
      0,
      1e12,
      `${REF}volume tier: more faults per second than this, whatever they cost`,
    ),
    max_cpu_percent: num(20, 0, 100, `${REF}every tier: only below this share of the machine (%)`),
  },
  io_bound: {
    min_blocked_percent: num(
      30,
      0,
      100,
      'I/O-bound when it waits for the disk (reads, page-ins of file-backed memory, writeback, direct I/O, flushes) at least this % of its busy time (on a CPU, waiting for one, or blocked), and longer than it runs …',
    ),
    min_blocked_core_percent: num(
      10,
      0,
      PCT,
      '… and that wait is at least this % of one core (10 = 100 ms of waiting per second, every thread)',
    ),
  },
  starved: {
    min_wait_percent: num(
      40,
      0,
      100,
      'Starved when it spends at least this % of its runnable time waiting for a CPU or throttled by a CPU quota …',
    ),
    min_wait_core_percent: num(
      10,
      0,
      PCT,
      '… and that wait is at least this % of one core (10 = 100 ms of waiting per second)',
    ),
    min_preempted: num(100, 0, 1e12, `${REF}preempted more than this many times per window …`),
    max_cpu_percent: num(10, 0, 100, `${REF}… while getting less than this share of the machine (%)`),
    runq_wait_percent: num(
      0,
      0,
      100,
      `${REF}also Starved when waiting for a CPU at least this % of the window after preemptions (0 = off)`,
    ),
  },
  noisy_neighbor: {
    min_caused_wait_percent: num(
      50,
      0,
      PCT,
      'Noisy neighbor when the waiting it causes others (their run-queue wait, by its share of their preemptions) is at least this % of one core …',
    ),
    min_core_percent: num(50, 0, PCT, '… while it runs at least this % of one core'),
    min_preempts_others: num(100, 0, 1e12, `${REF}preempts others more than this many times per window …`),
    min_cpu_percent: num(30, 0, 100, `${REF}… while using more than this share of the machine (%)`),
  },
  rss_trend: {
    window_ticks: num(3, 2, 1000, `${REF}windows of RSS history a trend is judged over (at least 2)`, true),
    min_delta_mb: num(10, 0, 1e9, `${REF}growth (MiB) over that history needed to call it growing`),
    sub_window_samples: flag(
      false,
      `${REF}also use the memory samples taken within each window, so a leak shows one window sooner`,
    ),
    absent_grace_windows: num(
      0,
      0,
      1000,
      "keep a process's memory history through this many windows in which it was idle (0 = forget at once)",
      true,
    ),
  },
  per_core: {
    saturation_percent: num(
      90,
      1,
      100,
      'a core this busy (%) is saturated (flagged when the machine as a whole is not)',
    ),
  },
};

function defaults(): Config {
  const out: Record<string, unknown> = { profile: 'default', exclude: [] };
  for (const [section, keys] of Object.entries(SCHEMA))
    out[section] = Object.fromEntries(Object.entries(keys).map(([k, leaf]) => [k, leaf.def]));
  return out as unknown as Config;
}

/** The largest config accepted (1 MiB): the generated file is about 3 KiB. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export const DEFAULT_CONFIG: Readonly<Config> = Object.freeze(defaults());

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly key: string,
    readonly detail: string,
    readonly file?: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    const where = [file ?? '<config>', line, column].filter((x) => x !== undefined).join(':');
    super(`${where}: ${key ? `${key}: ` : ''}${detail}`);
  }
}

/** Levenshtein distance, for "did you mean" on unknown keys. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length];
}

function unknownKey(key: string, known: string[]): string {
  const best = known.map((k) => [k, distance(key, k)] as const).sort((a, b) => a[1] - b[1])[0];
  const hint = best && best[1] <= 3 ? ` (did you mean "${best[0]}"?)` : ` (known: ${known.join(', ')})`;
  return `unknown key${hint}`;
}

type Locate = (path: string[], onKey: boolean) => { line?: number; column?: number };

function describe(v: unknown): string {
  // Never String() an object from input: its own toString/valueOf may be anything (or throw).
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (Array.isArray(v)) return 'a list';
  if (v === null || v === undefined) return 'nothing';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'function') return 'a function';
  return String(v);
}

/**
 * Names JavaScript gives meaning to on every object. A config is read with own-key checks only, so they could not
 * reach a prototype anyway; they are refused by name so a hostile or mistaken file says what is wrong.
 */
const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** `obj[key]` only when `key` is obj's own property: a config key never resolves through a prototype. */
function own<T>(obj: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** The own enumerable entries of an input mapping, refusing reserved names. */
function entriesOf(
  value: object,
  at: string[],
  err: (path: string[], detail: string, onKey?: boolean) => never,
): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const key of Object.keys(value)) {
    if (RESERVED_KEYS.has(key))
      err(
        [...at, key],
        'reserved name, not a Hotspot setting (refused: it would reach JavaScript internals)',
        true,
      );
    out.push([key, (value as Record<string, unknown>)[key]]);
  }
  return out;
}

/**
 * Validates a plain object against the schema, starting from the defaults; `locate` adds positions. The result is
 * built from the schema's own keys only: nothing from the input becomes a key, a prototype or a target of a write.
 */
function build(obj: unknown, file: string | undefined, locate: Locate, base?: Config): Config {
  const err = (path: string[], detail: string, onKey = false): never => {
    const at = locate(path, onKey);
    throw new ConfigError(path.join('.'), detail, file, at.line, at.column);
  };
  const cfg: Config = base ? structuredClone(base) : defaults();
  if (obj === null || obj === undefined) return cfg; // an empty file keeps every default
  if (typeof obj !== 'object' || Array.isArray(obj))
    err([], 'expected a mapping of sections (oom:, cpu_bound:, …)');
  const sections = ['profile', ...Object.keys(SCHEMA), 'exclude'];
  const schema = SCHEMA as Readonly<Record<string, Readonly<Record<string, Leaf>>>>;
  const target = cfg as unknown as Record<string, Record<string, unknown>>;
  for (const [section, value] of entriesOf(obj as object, [], err)) {
    if (section === 'profile') {
      if (!PROFILES.includes(value as Profile))
        err([section], `expected one of ${PROFILES.join(', ')}, got ${describe(value)}`);
      cfg.profile = value as Profile;
      continue;
    }
    if (section === 'exclude') {
      if (!Array.isArray(value) || value.some((x) => typeof x !== 'string' && typeof x !== 'number'))
        err([section], `expected a list of process names or pids, got ${describe(value)}`);
      cfg.exclude = (value as unknown[]).map(String);
      continue;
    }
    const keys = own(schema, section);
    if (!keys) return err([section], unknownKey(section, sections), true);
    if (value === null) continue;
    if (typeof value !== 'object' || Array.isArray(value))
      err([section], `expected a mapping, got ${describe(value)}`);
    for (const [key, v] of entriesOf(value as object, [section], err)) {
      const leaf = own(keys, key);
      const path = [section, key];
      if (!leaf) return err(path, unknownKey(key, Object.keys(keys)), true);
      if (leaf.kind === 'boolean') {
        if (typeof v !== 'boolean') err(path, `expected true or false, got ${describe(v)}`);
      } else {
        const range = `a${leaf.integer ? 'n integer' : ' number'} between ${leaf.min} and ${leaf.max}`;
        if (typeof v !== 'number' || !Number.isFinite(v)) err(path, `expected ${range}, got ${describe(v)}`);
        const n = v as number;
        if (n < leaf.min || n > leaf.max || (leaf.integer && !Number.isInteger(n)))
          err(path, `expected ${range}, got ${n}`);
      }
      target[section][key] = v;
    }
  }
  return cfg;
}

/**
 * Parses a YAML config. A partial file overrides only what it names. Throws ConfigError naming file, line,
 * column and key; callers keep their previous config in force when it throws.
 */
export function parseConfig(text: string, file?: string): Config {
  if (text.length > MAX_CONFIG_BYTES)
    throw new ConfigError(
      '',
      `the text is longer than ${MAX_CONFIG_BYTES} characters; a config is a few lines`,
      file,
    );
  const lc = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lc,
    prettyErrors: false,
    uniqueKeys: true,
    logLevel: 'error',
  });
  const first = doc.errors[0];
  if (first) {
    const pos = lc.linePos(first.pos[0]);
    throw new ConfigError('', `YAML syntax: ${first.message.split('\n')[0]}`, file, pos.line, pos.col);
  }
  const locate: Locate = (path, onKey) => {
    // Point at the key when there is one (unknown keys), else at the value.
    let node: YamlNode | null | undefined = doc.contents as YamlNode | null;
    let at: number | undefined = node?.range?.[0];
    for (const segment of path) {
      if (!isMap(node)) break;
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === segment);
      if (!pair) break;
      at = (pair.key as YamlNode).range?.[0];
      node = pair.value as YamlNode | null;
      if (!onKey && node?.range) at = node.range[0];
    }
    if (at === undefined) return {};
    const p = lc.linePos(at);
    return { line: p.line, column: p.col };
  };
  let js: unknown;
  try {
    // Aliases are expanded here; a file whose aliases multiply (a "billion laughs") is refused, not expanded.
    js = doc.toJS({ maxAliasCount: MAX_ALIAS_EXPANSION });
  } catch (e) {
    throw new ConfigError('', `YAML: ${String((e as Error)?.message ?? e).split('\n')[0]}`, file);
  }
  return build(js, file, locate);
}

/** A real config has a few dozen values; more alias expansion than this is an attack or a mistake. */
const MAX_ALIAS_EXPANSION = 100;

/** Same schema for objects from VS Code settings (no positions); `base` is what the object overrides. */
export function validateConfig(obj: unknown, source?: string, base?: Config): Config {
  return build(obj, source, () => ({}), base);
}

/** The schema as JSON Schema, for the `hotspot.thresholds` setting in package.json (a unit test keeps them equal). */
export function configJsonSchema(): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const [section, keys] of Object.entries(SCHEMA))
    properties[section] = {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(
        Object.entries(keys).map(([k, leaf]) => [
          k,
          leaf.kind === 'boolean'
            ? { type: 'boolean', default: leaf.def, description: leaf.doc }
            : {
                type: leaf.integer ? 'integer' : 'number',
                default: leaf.def,
                minimum: leaf.min,
                maximum: leaf.max,
                description: leaf.doc,
              },
        ]),
      ),
    };
  properties.exclude = {
    type: 'array',
    items: { type: ['string', 'number'] },
    description: 'Processes to hide, by name or pid.',
  };
  return { type: 'object', additionalProperties: false, properties };
}

const PROFILE_DOC =
  "Which rules label processes: 'default' judges CPU from demand (on CPU + waiting + throttled) and memory from the growth of what cannot be reclaimed; 'reference' is the original tool's rule table (its keys are marked [reference])";

/** The `hotspot.profile` setting in package.json (a unit test keeps them equal). */
export function profileJsonSchema(): Record<string, unknown> {
  return { type: 'string', enum: [...PROFILES], default: 'default', description: PROFILE_DOC };
}

/** The commented default config printed by --generate-config / "Hotspot: Generate Config". */
export function generateConfigYaml(): string {
  const out = [
    '# Hotspot thresholds. Any key left out keeps its default.',
    '# Units: CPU in % of ONE core (200 = two cores) unless it says "of the machine"; rates per second;',
    '# memory in MiB; [reference] keys are read only by `profile: reference`, and their counts',
    '# (preempted, preempts_others) are per sampling window as in the original tool.',
    '',
    `# ${PROFILE_DOC}`,
    'profile: default',
    '',
  ];
  for (const [section, keys] of Object.entries(SCHEMA)) {
    out.push(`${section}:`);
    for (const [key, leaf] of Object.entries(keys))
      out.push(
        `  # ${leaf.doc}${leaf.kind === 'boolean' ? ' (true or false)' : ''}`,
        `  ${key}: ${String(leaf.def)}`,
      );
    out.push('');
  }
  out.push('# Processes to hide, by name or pid.', 'exclude: []', '');
  return out.join('\n');
}

/** The keys ("section.key") that only `profile: reference` reads: set under the default profile, they do nothing. */
export function referenceOnlyKeys(): string[] {
  const out: string[] = [];
  for (const [section, keys] of Object.entries(SCHEMA))
    for (const [k, leaf] of Object.entries(keys)) if (leaf.doc.startsWith(REF)) out.push(`${section}.${k}`);
  return out;
}
