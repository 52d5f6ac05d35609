// Hostile keys in a config file or in the hotspot.thresholds setting: each must be a ConfigError naming the key,
// and no global object may change. The settings object is shared by every extension in the extension host, so a
// config that writes through `constructor` or `__proto__` would break all of them (issue 11, finding 1).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { stringify } from 'yaml';
import { ConfigError, DEFAULT_CONFIG, parseConfig, validateConfig } from '../../src/shared/diagnosis/config';

type Snapshot = Map<string, string>;

/** Every own property descriptor of the objects a config could reach, by identity of values and accessors. */
const GLOBALS: [string, object][] = [
  ['Object.prototype', Object.prototype],
  ['Object', Object],
  ['Array.prototype', Array.prototype],
  ['Array', Array],
  ['Function.prototype', Function.prototype],
  ['String.prototype', String.prototype],
  ['Number.prototype', Number.prototype],
  ['globalThis', globalThis],
];
const identities = new Map<unknown, number>();
const idOf = (v: unknown): string => {
  if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return `${typeof v}:${String(v)}`;
  if (!identities.has(v)) identities.set(v, identities.size);
  return `ref#${identities.get(v)}`;
};
function snapshot(): Snapshot {
  const out: Snapshot = new Map();
  for (const [name, obj] of GLOBALS) {
    out.set(`${name} [[Prototype]]`, idOf(Object.getPrototypeOf(obj)));
    out.set(`${name} extensible`, String(Object.isExtensible(obj)));
    for (const key of Reflect.ownKeys(obj)) {
      const d = Object.getOwnPropertyDescriptor(obj, key)!;
      out.set(
        `${name}.${String(key)}`,
        [idOf(d.value), idOf(d.get), idOf(d.set), d.writable, d.enumerable, d.configurable].join(' '),
      );
    }
  }
  return out;
}
function assertUnchanged(before: Snapshot, what: string): void {
  const after = snapshot();
  const changed = [...new Set([...before.keys(), ...after.keys()])].filter(
    (k) => before.get(k) !== after.get(k),
  );
  assert.deepEqual(changed, [], `${what} changed globals`);
}

const HOSTILE = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf'];
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);

/** An object with an own key `k` even when k is "__proto__" (a literal would set the prototype instead). */
const withKey = (k: string, v: unknown): Record<string, unknown> => {
  const o: Record<string, unknown> = {};
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  return o;
};

function rejected(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `a ConfigError, not ${(e as Error)?.stack ?? e}`);
    return e;
  }
  assert.fail('accepted');
}

describe('config: hostile keys', () => {
  test('the reported setting {"constructor":{"keys":1,"entries":1},"hasOwnProperty":{"call":1}} is refused', () => {
    const before = snapshot();
    const e = rejected(() =>
      validateConfig(
        JSON.parse('{"constructor":{"keys":1,"entries":1},"hasOwnProperty":{"call":1}}'),
        'setting hotspot.thresholds',
      ),
    );
    assert.match(e.message, /^setting hotspot\.thresholds: constructor: reserved name/);
    assertUnchanged(before, 'the setting');
    assert.equal(typeof Object.keys, 'function');
  });

  test('YAML "__proto__: {toString: 1}" is a ConfigError at its line, and ({}).toString stays', () => {
    const before = snapshot();
    const e = rejected(() => parseConfig('oom:\n  rss_mb: 1\n__proto__:\n  toString: 1\n', 'h.yaml'));
    assert.equal(e.key, '__proto__');
    assert.match(e.message, /^h\.yaml:3:1: __proto__: reserved name/);
    assertUnchanged(before, 'the YAML');
    assert.equal(typeof {}.toString, 'function');
  });

  test('YAML "constructor: {name: 1}" is a ConfigError, not a crash', () => {
    const e = rejected(() => parseConfig('constructor:\n  name: 1\n', 'h.yaml'));
    assert.equal(e.key, 'constructor');
  });

  test('a hostile key inside a section names section and key', () => {
    for (const k of HOSTILE) {
      const before = snapshot();
      const e = rejected(() => parseConfig(`oom:\n  ${k}: 1\n`, 'h.yaml'));
      assert.equal(e.key, `oom.${k}`);
      assert.match(e.message, RESERVED.has(k) ? /reserved name/ : /unknown key/);
      assertUnchanged(before, `oom.${k}`);
    }
  });

  test('a value that is an object with its own toString is described, not stringified', () => {
    const e = rejected(() => validateConfig({ oom: { rss_mb: { toString: 1, valueOf: 1 } } }));
    assert.match(e.message, /oom\.rss_mb: expected a number between 0 and 1000000000, got a mapping/);
  });
});

describe('config fuzz: hostile keys anywhere', () => {
  let seed = 11;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const sections = [...Object.keys(DEFAULT_CONFIG), ...HOSTILE];
  const leafKeys = [...Object.keys(DEFAULT_CONFIG.oom), ...Object.keys(DEFAULT_CONFIG.cpu_bound), ...HOSTILE];
  const value = (depth: number): unknown => {
    switch (rnd(depth > 2 ? 5 : 7)) {
      case 0:
        return rnd(100);
      case 1:
        return rnd(2) === 0;
      case 2:
        return HOSTILE[rnd(HOSTILE.length)];
      case 3:
        return null;
      case 4:
        return [rnd(5), 'x'];
      default:
        return tree(depth + 1, leafKeys);
    }
  };
  const tree = (depth: number, names: string[]): Record<string, unknown> => {
    const o: Record<string, unknown> = {};
    for (let k = rnd(4); k >= 0; k--) Object.assign(o, withKey(names[rnd(names.length)], value(depth)));
    return o;
  };

  test('3000 settings objects and 3000 YAML files with hostile keys: a Config or a ConfigError, globals untouched', () => {
    const before = snapshot();
    let refused = 0;
    for (let i = 0; i < 3000; i++) {
      const obj = tree(0, sections);
      for (const run of [
        () => validateConfig(obj, 'setting hotspot.thresholds', DEFAULT_CONFIG),
        () => parseConfig(stringify(obj), 'f.yaml'),
      ]) {
        try {
          const c = run();
          assert.equal(typeof c.oom.rss_mb, 'number');
          assert.equal(Object.getPrototypeOf(c), Object.prototype, 'a plain config object');
        } catch (e) {
          if (!(e instanceof ConfigError))
            throw new Error(`${(e as Error)?.stack ?? e} for ${stringify(obj)}`);
          refused++;
        }
      }
    }
    assertUnchanged(before, 'the fuzz');
    assert.ok(refused > 1000, `hostile inputs are refused (${refused})`);
    assert.equal(typeof Object.keys, 'function');
    assert.equal(typeof {}.hasOwnProperty, 'function');
  });
});
