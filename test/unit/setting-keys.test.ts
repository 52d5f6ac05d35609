// Renamed settings: the new key wins wherever it is set, the old key is read when the new one is set nowhere, and
// package.json declares both (the old one deprecated, pointing at the new one) with the same bounds.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { type Inspectable, RENAMED, renamedSetting } from '../../src/extension/settingKeys';

type Levels = { globalValue?: unknown; workspaceValue?: unknown; workspaceFolderValue?: unknown };

/** A configuration section as VS Code's inspect() shows it: per key, the levels someone set, plus the default. */
const config = (values: Record<string, Levels>, defaults: Record<string, unknown> = {}): Inspectable => ({
  inspect: <T>(key: string) =>
    ({ ...(values[key] ?? {}), defaultValue: defaults[key] }) as { defaultValue?: T },
});

test('the new key wins at any level, even over an old key set more specifically', () => {
  const c = config({
    measurementWindow: { globalValue: 2000 },
    intervalMs: { workspaceValue: 1000, workspaceFolderValue: 750 },
  });
  assert.equal(renamedSetting(c, 'measurementWindow', 5000), 2000);
});

test('the old key is read, most specific level first, when the new key is set nowhere', () => {
  const c = config(
    { intervalMs: { globalValue: 1000, workspaceValue: 1500 }, topK: { globalValue: 7 } },
    { measurementWindow: 5000, processesPerDiagnosis: 20 }, // the new keys' defaults do not count as "set"
  );
  assert.equal(renamedSetting(c, 'measurementWindow', 5000), 1500);
  assert.equal(renamedSetting(c, 'processesPerDiagnosis', 20), 7);
});

test('neither set: the default', () => {
  const c = config({}, { dashboardHistory: 60, historyWindows: 60 });
  assert.equal(renamedSetting(c, 'dashboardHistory', 60), 60);
  assert.equal(renamedSetting(config({ historyWindows: { globalValue: 120 } }), 'dashboardHistory', 60), 120);
});

test('package.json: each new key is an ordered integer setting; its old key stays declared, deprecated, same bounds', () => {
  const pkg = JSON.parse(readFileSync(path.join(__dirname, '../../package.json'), 'utf8'));
  const props = pkg.contributes.configuration.properties as Record<string, Record<string, unknown>>;
  for (const [key, old] of Object.entries(RENAMED)) {
    const now = props[`hotspot.${key}`];
    const was = props[`hotspot.${old}`];
    assert.ok(now && was, `hotspot.${key} and hotspot.${old} are declared`);
    assert.equal(now.type, 'integer');
    assert.equal(typeof now.order, 'number');
    assert.equal(now.markdownDeprecationMessage, undefined);
    assert.match(String(was.markdownDeprecationMessage), new RegExp(`#hotspot\\.${key}#`));
    assert.deepEqual([was.type, was.minimum, was.maximum], [now.type, now.minimum, now.maximum]);
  }
  // Every setting has an order, and no two share one.
  const orders = Object.values(props).map((p) => p.order);
  assert.ok(orders.every((o) => typeof o === 'number'));
  assert.equal(new Set(orders).size, orders.length);
});
