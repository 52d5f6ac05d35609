// The classifier over windows recorded from the real kernel (npm run record): each workload's processes get the
// diagnosis the reference reproduction promises, with the config recorded next to it.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { Classifier } from '../../src/shared/classifier';
import { validateConfig } from '../../src/shared/config';
import type { Label } from '../../src/shared/diagnosis';
import { type Hello, parseLine, type Window } from '../../src/shared/protocol';

const FIXTURES = path.join(__dirname, '..', 'fixtures');

interface Expect {
  workload: string;
  config: object;
  roles: { role: string; tgid: number; label: Label }[];
}

for (const f of readdirSync(FIXTURES).filter((x) => x.endsWith('.expect.json'))) {
  const expect = JSON.parse(readFileSync(path.join(FIXTURES, f), 'utf8')) as Expect;
  test(`recorded ${expect.workload}: ${expect.roles.map((r) => `${r.role} → ${r.label}`).join(', ')}`, () => {
    const msgs = readFileSync(path.join(FIXTURES, `${expect.workload}.jsonl`), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(parseLine);
    const hello = msgs[0] as Hello;
    assert.equal(hello.type, 'hello');
    const c = new Classifier(validateConfig(expect.config), hello);
    const seen = new Map<number, Label[]>();
    for (const m of msgs.filter((x): x is Window => x.type === 'window'))
      for (const d of c.classify(m).diagnoses) seen.set(d.tgid, [...(seen.get(d.tgid) ?? []), d.label]);
    for (const r of expect.roles) {
      const labels = seen.get(r.tgid) ?? [];
      // Steady state: the last windows (the first ones warm the RSS trend and the workload up).
      assert.equal(labels.at(-1), r.label, `${r.role} (${r.tgid}) over the windows: ${labels.join(', ')}`);
      const hits = labels.filter((l) => l === r.label).length;
      assert.ok(
        hits >= Math.min(3, labels.length - 2),
        `${r.role}: ${r.label} in ${hits} of ${labels.length} windows`,
      );
    }
  });
}

// rss_mb 40: the leak passes it in its first window, so what is measured is how soon the *trend* is seen.
test('recorded leak: the growth is seen in window 1 with sub-window RSS samples, window 2 in parity mode', () => {
  const msgs = readFileSync(path.join(FIXTURES, 'leak.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map(parseLine);
  const leak = (JSON.parse(readFileSync(path.join(FIXTURES, 'leak.expect.json'), 'utf8')) as Expect).roles[0]
    .tgid;
  const firstOom = (sub: boolean) => {
    const c = new Classifier(
      validateConfig({ oom: { rss_mb: 40 }, rss_trend: { sub_window_samples: sub } }),
      msgs[0] as Hello,
    );
    const windows = msgs.filter((x): x is Window => x.type === 'window');
    return windows.findIndex(
      (w) => c.classify(w).diagnoses.find((d) => d.tgid === leak)?.label === 'OOM risk',
    );
  };
  const parity = firstOom(false);
  const sub = firstOom(true);
  assert.equal(parity, 1, `parity: OOM risk in window ${parity + 1}`);
  assert.equal(sub, 0, `sub-window samples: OOM risk in window ${sub + 1}`);
});
