// The YAML config: defaults, partial overrides, precise errors (file:line:col key), and a fuzz of random and
// mutated files that must only ever yield a Config or a ConfigError.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import {
  ConfigError,
  configJsonSchema,
  DEFAULT_CONFIG,
  generateConfigYaml,
  parseConfig,
  profileJsonSchema,
  validateConfig,
} from '../../src/shared/diagnosis/config';

const err = (text: string): ConfigError => {
  try {
    parseConfig(text, 'hotspot.yaml');
  } catch (e) {
    assert.ok(e instanceof ConfigError, `a ConfigError, not ${e}`);
    return e;
  }
  assert.fail(`accepted: ${JSON.stringify(text)}`);
};

describe('config', () => {
  test('the generated file parses back to the defaults', () => {
    assert.deepEqual(parseConfig(generateConfigYaml()), DEFAULT_CONFIG);
  });
  test('an empty file keeps every default', () => {
    assert.deepEqual(parseConfig(''), DEFAULT_CONFIG);
  });
  test('a partial file overrides only what it names', () => {
    const c = parseConfig('oom:\n  rss_mb: 200\nexclude: [sshd, 1]\n');
    assert.equal(c.oom.rss_mb, 200);
    assert.equal(c.oom.rss_ratio, DEFAULT_CONFIG.oom.rss_ratio);
    assert.deepEqual(c.cpu_bound, DEFAULT_CONFIG.cpu_bound);
    assert.deepEqual(c.exclude, ['sshd', '1']);
  });
  test('unknown key: file, line, column, key and a suggestion', () => {
    const e = err('oom:\n  rss_mb: 200\n  rss_mbb: 3\n');
    assert.equal(e.message, 'hotspot.yaml:3:3: oom.rss_mbb: unknown key (did you mean "rss_mb"?)');
  });
  test('unknown section', () => {
    assert.match(err('cpu:\n  x: 1\n').message, /^hotspot\.yaml:1:1: cpu: unknown key/);
  });
  test('wrong type points at the value', () => {
    assert.equal(
      err('cpu_bound:\n  cpu_percent: "fifty"\n').message,
      'hotspot.yaml:2:16: cpu_bound.cpu_percent: expected a number between 0 and 100, got "fifty"',
    );
    assert.match(
      err('oom:\n  use_cgroup_limit: 1\n').message,
      /:2:21: oom\.use_cgroup_limit: expected true or false/,
    );
  });
  test('out of range and non-integer', () => {
    assert.match(
      err('oom:\n  rss_ratio: 1.5\n').message,
      /:2:14: oom\.rss_ratio: expected a number between 0 and 1, got 1\.5/,
    );
    assert.match(
      err('rss_trend:\n  window_ticks: 2.5\n').message,
      /rss_trend\.window_ticks: expected an integer/,
    );
  });
  test('YAML syntax error has a position', () => {
    assert.match(err('oom:\n  rss_mb: [1,\n').message, /^hotspot\.yaml:\d+:\d+: YAML syntax/);
  });
  test('duplicate keys are an error, not a silent override', () => {
    assert.match(err('oom:\n  rss_mb: 1\n  rss_mb: 2\n').message, /hotspot\.yaml:3:\d+/);
  });
  test('profile: default unless the file or the settings choose the reference rules', () => {
    assert.equal(DEFAULT_CONFIG.profile, 'default');
    assert.equal(parseConfig('profile: reference\n').profile, 'reference');
    assert.equal(validateConfig({ profile: 'reference' }).profile, 'reference');
    assert.equal(
      err('profile: fancy\n').message,
      'hotspot.yaml:1:10: profile: expected one of default, reference, got "fancy"',
    );
  });
  test('every key of the generated file names its unit', () => {
    const docs = generateConfigYaml()
      .split('\n')
      .filter((l) => l.startsWith('  # '));
    for (const d of docs)
      assert.match(
        d,
        /%|MiB|second|per window|fraction|windows|cores?|true|pages|share|faults|0\.\.1| ms /,
        `no unit in: ${d}`,
      );
  });
  test('settings objects share the schema', () => {
    assert.equal(validateConfig({ starved: { min_preempted: 3 } }).starved.min_preempted, 3);
    assert.throws(() => validateConfig({ starved: { min_preempted: -1 } }), ConfigError);
  });
});

describe('config fuzz', () => {
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const base = generateConfigYaml();
  const alphabet = 'abc_:-# \n\t"\'[]{},.0123456789&*!|>%@`';
  const mutate = (s: string) => {
    const chars = [...s];
    for (let k = 1 + rnd(4); k > 0; k--) {
      const i = rnd(chars.length + 1);
      const op = rnd(3);
      if (op === 0) chars.splice(i, 1);
      else if (op === 1) chars.splice(i, 0, alphabet[rnd(alphabet.length)]);
      else chars[i] = alphabet[rnd(alphabet.length)];
    }
    return chars.join('');
  };
  test('5000 mutated and random files: a Config or a ConfigError with a position, never a crash', () => {
    let rejected = 0;
    for (let i = 0; i < 5000; i++) {
      const text =
        i % 5 === 0
          ? Array.from({ length: rnd(80) }, () => alphabet[rnd(alphabet.length)]).join('')
          : mutate(base);
      try {
        const c = parseConfig(text, 'f.yaml');
        assert.equal(typeof c.oom.rss_mb, 'number');
      } catch (e) {
        if (!(e instanceof ConfigError)) throw new Error(`${e} for ${JSON.stringify(text)}`);
        assert.match(e.message, /^f\.yaml(:\d+:\d+)?: /);
        rejected++;
      }
    }
    assert.ok(rejected > 500, `mutations are rejected too (${rejected})`);
  });
});

describe('the hotspot.thresholds setting', () => {
  test('package.json declares exactly the config schema', () => {
    const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
    const {
      default: _d,
      scope: _s,
      markdownDescription: _m,
      order: _o, // where the Settings editor lists it: presentation, not schema
      ...declared
    } = pkg.contributes.configuration.properties['hotspot.thresholds'];
    assert.deepEqual(
      declared,
      configJsonSchema(),
      'regenerate it from configJsonSchema() after a schema change',
    );
  });
  test('package.json declares hotspot.profile as the config does', () => {
    const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
    const { scope: _s, order: _o, ...declared } = pkg.contributes.configuration.properties['hotspot.profile'];
    assert.deepEqual(declared, profileJsonSchema());
  });
  test('settings override the file, which overrides the defaults; errors name the setting and key', () => {
    const file = parseConfig('oom:\n  rss_mb: 200\n  rss_ratio: 0.2\n', 'f.yaml');
    const c = validateConfig({ oom: { rss_mb: 300 } }, 'setting hotspot.thresholds', file);
    assert.deepEqual([c.oom.rss_mb, c.oom.rss_ratio, c.oom.faults_per_sec], [300, 0.2, 200]);
    assert.throws(
      () => validateConfig({ oom: { rss_mb: -1 } }, 'setting hotspot.thresholds', file),
      /^ConfigError: setting hotspot\.thresholds: oom\.rss_mb: expected a number between 0 and/,
    );
    assert.equal(file.oom.rss_mb, 200, 'the base is not modified');
  });
});
