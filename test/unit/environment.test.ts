// What Hotspot offers depends on the environment: the sudo command line, and containers without BPF capabilities.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { bpfImpossible, readCaps, sudoInstallCommand } from '../../src/host/environment';

test('the sudo command runs the CLI subcommand with an absolute node and the extension path (quoted)', () => {
  const cmd = sudoInstallCommand('/home/me/.vscode/extensions/hotspot-0.1.0');
  assert.match(
    cmd,
    /^sudo \/\S+\/node \/home\/me\/\.vscode\/extensions\/hotspot-0\.1\.0\/dist\/cli\.js install-helper$/,
  );
  assert.match(
    sudoInstallCommand("/tmp/with space/it's"),
    / '\/tmp\/with space\/it'\\''s\/dist\/cli\.js' install-helper$/,
  );
});

test('capabilities from /proc/<pid>/status decide whether eBPF can work at all', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'caps-'));
  const status = (eff: string, bnd: string) => {
    const f = path.join(dir, `${eff}-${bnd}`);
    writeFileSync(
      f,
      `Name:\tx\nCapInh:\t0000000000000000\nCapPrm:\t${eff}\nCapEff:\t${eff}\nCapBnd:\t${bnd}\n`,
    );
    return readCaps(f);
  };
  const docker = '00000000a80425fb'; // Docker's default set: no CAP_SYS_ADMIN (21), no CAP_BPF (39)
  const full = '000001ffffffffff';
  assert.match(
    bpfImpossible(status(docker, docker), true, true) ?? '',
    /^This container has neither CAP_BPF/,
  );
  assert.equal(bpfImpossible(status(full, full), true, true), undefined, 'a privileged container can');
  assert.equal(
    bpfImpossible(status('0000000000000000', full), false, false),
    undefined,
    'a user who may sudo',
  );
  assert.match(bpfImpossible(status('0000000000000000', docker), false, true) ?? '', /bounding set/);
  assert.equal(
    bpfImpossible(status('0000008000000000', '0000008000000000'), true, false),
    undefined,
    'CAP_BPF alone',
  );
  assert.equal(bpfImpossible(readCaps(), true, false), undefined, 'this machine (root, full caps) can');
});
