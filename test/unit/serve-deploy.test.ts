// What ships beside `hotspot serve`: the DaemonSet manifest is valid against the Kubernetes schema (kubernetes-models,
// offline) and asks for what the helper needs; the Grafana dashboard queries only metrics serve exports; the systemd
// unit passes `systemd-analyze verify` and keeps its hardening.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { parse } from 'yaml';
import { parseServeArgs } from '../../src/serve/args';
import { FAMILIES } from '../../src/serve/families';

const ROOT = path.resolve(__dirname, '..', '..');
const read = (f: string) => readFileSync(path.join(ROOT, f), 'utf8');

test('the DaemonSet is valid Kubernetes, and a broken copy is not (the validator is real)', () => {
  const manifest = parse(read('docs/deploy/daemonset.yaml'));
  new DaemonSet(manifest).validate();
  const broken = structuredClone(manifest);
  broken.spec.template.spec.containers[0].ports[0].containerPort = 'metrics';
  assert.throws(() => new DaemonSet(broken).validate(), /containerPort must be integer/);
  const noSelector = structuredClone(manifest);
  delete noSelector.spec.selector;
  assert.throws(() => new DaemonSet(noSelector).validate(), /selector/);
});

test('the DaemonSet: host PID namespace, read-only BTF and cgroup mounts, the capabilities, a public listen it opts into', () => {
  const m = parse(read('docs/deploy/daemonset.yaml'));
  const pod = m.spec.template.spec;
  const c = pod.containers[0];
  assert.equal(pod.hostPID, true);
  const mounts = Object.fromEntries(
    c.volumeMounts.map((v: { mountPath: string; readOnly: boolean }) => [v.mountPath, v.readOnly]),
  );
  assert.deepEqual(mounts, { '/sys/kernel/btf': true, '/sys/fs/cgroup': true });
  assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
  for (const cap of ['BPF', 'PERFMON', 'SETUID', 'SETGID'])
    assert.ok(c.securityContext.capabilities.add.includes(cap), cap);
  assert.notEqual(c.securityContext.privileged, true);
  assert.equal(c.command.at(-1), 'serve');
  // The args parse as serve's flags (with the pod IP substituted); without --listen-public they are refused.
  const args = c.args.map((a: string) => a.replace('$(POD_IP)', '10.0.0.7'));
  assert.equal(parseServeArgs(args).listen.host, '10.0.0.7');
  assert.throws(() => parseServeArgs(args.filter((a: string) => a !== '--listen-public')), /--listen-public/);
  assert.equal(c.livenessProbe.httpGet.path, '/healthz');
});

test('the Grafana dashboard queries only exported metrics, and shows diagnoses, time to OOM, waits, I/O and overhead', () => {
  const d = JSON.parse(read('docs/grafana/hotspot.json'));
  const names = new Set([...FAMILIES.map((f) => f.prom), 'hotspot_build_info']);
  const used = new Set<string>();
  for (const p of d.panels)
    for (const t of p.targets ?? [])
      for (const m of t.expr.matchAll(/\bhotspot_[a-z_]+/g)) {
        assert.ok(names.has(m[0]), `${p.title}: ${m[0]} is not exported`);
        used.add(m[0]);
      }
  for (const want of [
    'hotspot_diagnosis',
    'hotspot_time_to_oom_seconds',
    'hotspot_cpu_wait_seconds_total',
    'hotspot_cpu_blocked_io_seconds_total',
    'hotspot_helper_cpu_seconds_total',
    'hotspot_helper_resident_memory_bytes',
  ])
    assert.ok(used.has(want), `a panel on ${want}`);
});

test('the systemd unit: verified by systemd-analyze, disabled-by-default install section, hardening kept', {
  skip: spawnSync('systemd-analyze', ['--version']).status === 0 ? false : 'systemd-analyze is not installed',
}, () => {
  const unit = path.join(ROOT, 'scripts/templates/hotspot-serve.service');
  const r = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim(), '', 'no warnings');
  const text = read('scripts/templates/hotspot-serve.service');
  for (const line of [
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'ProtectHome=yes',
    'PrivateTmp=yes',
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6',
    'CapabilityBoundingSet=CAP_BPF CAP_PERFMON CAP_SYS_ADMIN CAP_SYS_RESOURCE CAP_SETPCAP CAP_SETUID CAP_SETGID',
  ])
    assert.ok(text.split('\n').includes(line), line);
  assert.ok(!/^ProtectProc=invisible/m.test(text), 'the processes to diagnose stay visible');
  assert.ok(!/--listen(?!-)/.test(text), 'the packaged unit listens on the default loopback address');
});
