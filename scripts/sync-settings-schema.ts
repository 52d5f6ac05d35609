// Writes the hotspot.thresholds setting's schema in package.json from the config schema (src/shared/config.ts),
// keeping the setting's presentation keys; test/unit/config.test.ts checks the two are equal.
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { configJsonSchema } from '../src/shared/diagnosis/config';

const file = path.join(__dirname, '..', 'package.json');
const pkg = JSON.parse(readFileSync(file, 'utf8'));
const setting = pkg.contributes.configuration.properties['hotspot.thresholds'];
const { default: d, scope, markdownDescription, order } = setting;
pkg.contributes.configuration.properties['hotspot.thresholds'] = {
  ...configJsonSchema(),
  default: d,
  scope,
  markdownDescription,
  order,
};
writeFileSync(file, `${JSON.stringify(pkg, null, 2)}\n`);
