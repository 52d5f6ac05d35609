// The classifier over protocol v2 windows recorded from the real kernel (npm run record): each workload's processes
// get the diagnosis the reference reproduction promises under the reference rules (with the config recorded next to
// it), and the one a performance engineer would give under the default rules.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { Classifier } from '../../src/shared/diagnosis/classifier';
import { type Config, DEFAULT_CONFIG, validateConfig } from '../../src/shared/diagnosis/config';
import type { Diagnosis, Label } from '../../src/shared/diagnosis/model';
import { cause } from '../../src/shared/presentation/explain';
import { type Hello, parseLine, type Window } from '../../src/shared/wire/protocol';

const FIXTURES = path.join(__dirname, '..', 'fixtures');

interface Role {
  role: string;
  tgid: number;
  label: Label;
}
interface Expect {
  workload: string;
  config: object;
  roles: Role[];
  defaultRoles: Role[];
}

function load(workload: string) {
  const msgs = readFileSync(path.join(FIXTURES, `${workload}.jsonl`), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map(parseLine);
  const hello = msgs[0] as Hello;
  assert.equal(hello.type, 'hello');
  return { hello, windows: msgs.filter((x): x is Window => x.type === 'window') };
}

/** Each role's diagnosis in every window, under `config`. */
function diagnose(workload: string, config: Config): Map<number, Diagnosis[]> {
  const { hello, windows } = load(workload);
  const c = new Classifier(config, hello);
  const seen = new Map<number, Diagnosis[]>();
  for (const w of windows)
    for (const d of c.classify(w).diagnoses) seen.set(d.tgid, [...(seen.get(d.tgid) ?? []), d]);
  return seen;
}

for (const f of readdirSync(FIXTURES).filter((x) => x.endsWith('.expect.json'))) {
  const expect = JSON.parse(readFileSync(path.join(FIXTURES, f), 'utf8')) as Expect;
  if (expect.roles.length)
    test(`recorded ${expect.workload}, reference rules: ${expect.roles.map((r) => `${r.role} → ${r.label}`).join(', ')}`, () => {
      const seen = diagnose(expect.workload, validateConfig(expect.config));
      for (const r of expect.roles) {
        const labels = (seen.get(r.tgid) ?? []).map((d) => d.label);
        // Steady state: the last windows (the first ones warm the RSS trend and the workload up).
        assert.equal(labels.at(-1), r.label, `${r.role} (${r.tgid}) over the windows: ${labels.join(', ')}`);
        const hits = labels.filter((l) => l === r.label).length;
        assert.ok(
          hits >= Math.min(3, labels.length - 2),
          `${r.role}: ${r.label} in ${hits} of ${labels.length} windows`,
        );
      }
    });
  test(`recorded ${expect.workload}, default rules: ${expect.defaultRoles.map((r) => `${r.role} → ${r.label}`).join(', ')}`, () => {
    const seen = diagnose(expect.workload, DEFAULT_CONFIG);
    for (const r of expect.defaultRoles) {
      const ds = seen.get(r.tgid) ?? [];
      const story = ds.map((d) => `${d.label} (${cause(d)})`).join(' | ');
      assert.equal(ds.at(-1)?.label, r.label, `${r.role} (${r.tgid}): ${story}`);
      if (r.label === 'OK')
        assert.ok(
          ds.every((d) => d.label === 'OK'),
          `${r.role} stays OK: ${story}`,
        );
    }
  });
}

// rss_mb 40: the leak passes it in its first window, so what is measured is how soon the *trend* is seen.
test('recorded leak: the growth is seen in window 1 with sub-window RSS samples, window 2 in parity mode', () => {
  const { hello, windows } = load('leak');
  const leak = (JSON.parse(readFileSync(path.join(FIXTURES, 'leak.expect.json'), 'utf8')) as Expect).roles[0]
    .tgid;
  const firstOom = (sub: boolean) => {
    const c = new Classifier(
      validateConfig({ profile: 'reference', oom: { rss_mb: 40 }, rss_trend: { sub_window_samples: sub } }),
      hello,
    );
    return windows.findIndex(
      (w) => c.classify(w).diagnoses.find((d) => d.tgid === leak)?.label === 'OOM risk',
    );
  };
  const parity = firstOom(false);
  const sub = firstOom(true);
  assert.equal(parity, 1, `parity: OOM risk in window ${parity + 1}`);
  assert.equal(sub, 0, `sub-window samples: OOM risk in window ${sub + 1}`);
});
