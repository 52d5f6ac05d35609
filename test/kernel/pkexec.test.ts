// The real elevation path: an unprivileged user runs HelperSupervisor, which starts the installed helper through
// the real pkexec + polkitd + system D-Bus. Needs root (to create the user, the rules and the install).
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { HELPER_UID } from '../../src/helper/privileges';
import { installHelper } from '../../src/host/install';
import { DEFAULT_POLICY_DIR, POLKIT_ACTION } from '../../src/host/rootPath';
import { PkexecRig, pkexecSkip, quiet } from '../support/pkexecRig';
import { bpfProgIdsOf, pidsRunning } from '../support/procs';

const ROOT = path.resolve(__dirname, '../..');
const USER = 'hotspot-e2e';
const INSTALL_DIR = '/usr/local/lib/hotspot-e2e-test';
const RULE = '/etc/polkit-1/rules.d/10-hotspot-e2e-test.rules';
const POLICY = path.join(DEFAULT_POLICY_DIR, `${POLKIT_ACTION}.policy`);
const skip = pkexecSkip;

const rig = new PkexecRig(USER, 'scripts/e2e/pkexecDriver.ts');
let savedPolicy: Buffer | undefined;

type Ev = { ev: string; [k: string]: unknown };

/** Runs the driver as the unprivileged user and collects its JSON events. */
function runDriver(args: string[], timeoutMs = 90_000): Promise<Ev[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('runuser', ['-u', USER, '--', '/usr/bin/node', rig.driver, ...args], {
      cwd: '/',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`driver timed out; stdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.on('close', () => {
      clearTimeout(timer);
      const evs = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Ev);
      for (const e of evs) if (e.ev === 'log' && e.level !== 'debug') console.log(`  [driver] ${e.m}`);
      if (stderr.trim()) console.log(`  [driver stderr] ${stderr.trim()}`);
      resolve(evs);
    });
  });
}

const progIds = (): Set<number> =>
  new Set(
    (
      JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' })) as { id: number }[]
    ).map((p) => p.id),
  );

function uidOf(pid: number): number | undefined {
  try {
    const m = /^Uid:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

const setRule = (js: string | undefined) => {
  if (js === undefined) rmSync(RULE, { force: true });
  else writeFileSync(RULE, js, { mode: 0o644 });
  // polkitd reloads rules on an inotify event; give it a moment.
  return new Promise((r) => setTimeout(r, 1500));
};

const allowUser = (condition: string) =>
  `polkit.addRule(function (action, subject) {\n  if (subject.user === "${USER}" && ${condition}) return polkit.Result.YES;\n});\n`;

before(async () => {
  if (skip) return;
  await rig.setUp();
  if (existsSync(POLICY)) savedPolicy = readFileSync(POLICY);
  await installHelper({ extensionPath: ROOT, installDir: INSTALL_DIR, log: quiet });
});

after(async () => {
  if (skip) return;
  rmSync(RULE, { force: true });
  rmSync(INSTALL_DIR, { recursive: true, force: true });
  if (savedPolicy) writeFileSync(POLICY, savedPolicy, { mode: 0o644 });
  else rmSync(POLICY, { force: true });
  rig.tearDown();
});

test('through real pkexec: hello and windows from a root helper; stop leaves no helper and no BPF programs', {
  skip,
}, async () => {
  await setRule(allowUser(`action.id === "${POLKIT_ACTION}"`));
  const launcherTarget = `${INSTALL_DIR}/helper.js`;
  const ours = new Set<number>();
  const uids = new Set<number>();
  const evs = runDriver(['supervise', INSTALL_DIR, '3']);
  // While the helper runs, read the BPF program ids out of its own fds (other tests may load programs too)
  // and note which user it runs as.
  const probe = setInterval(() => {
    for (const pid of pidsRunning(launcherTarget)) {
      for (const id of bpfProgIdsOf(pid)) ours.add(id);
      const uid = uidOf(pid);
      if (uid !== undefined) uids.add(uid);
    }
  }, 200);
  const events = await evs.finally(() => clearInterval(probe));
  const hello = events.find((e) => e.ev === 'hello');
  assert.ok(hello, `no hello; events: ${JSON.stringify(events.filter((e) => e.ev !== 'log'))}`);
  assert.equal(events.filter((e) => e.ev === 'window').length, 3);
  assert.ok(!events.some((e) => e.ev === 'failure'), 'no failure expected');
  const stopped = events.find((e) => e.ev === 'stopped');
  assert.ok(stopped, 'stop() resolved');
  assert.equal(stopped.state, 'stopped');
  assert.ok((stopped.ms as number) < 2500, `stop took ${stopped.ms} ms`);
  // Started as root by pkexec although the driver was not; once attached it runs as nobody (privileges.ts).
  const driverUid = Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' }));
  assert.ok(uids.has(HELPER_UID) && !uids.has(driverUid), `the helper's uids: ${[...uids].join(', ')}`);
  assert.ok(ours.size >= 2, `the helper held BPF programs (saw ids ${[...ours].join(',')})`);
  assert.equal(existsSync(`/proc/${hello.pid}`), false, 'helper process is gone');
  // The kernel frees a program shortly after its last fd closes; give it a moment.
  let left: number[] = [];
  for (let i = 0; i < 20; i++) {
    const now = progIds();
    left = [...ours].filter((id) => now.has(id));
    if (!left.length) break;
    await new Promise((r) => setTimeout(r, 150));
  }
  assert.deepEqual(left, [], 'BPF programs left attached');
});

test('without a polkit rule (no authentication agent) pkexec is denied: PKEXEC_CANCELLED with a readable message', {
  skip,
}, async () => {
  await setRule(undefined);
  const events = await runDriver(['supervise', INSTALL_DIR, '1']);
  const f = events.find((e) => e.ev === 'failure');
  assert.ok(f, 'a failure was reported');
  assert.ok(f.code === 'PKEXEC_CANCELLED' || f.code === 'PKEXEC_UNAVAILABLE', `code ${f.code}`);
  assert.equal(f.fatal, true);
  assert.match(f.message as string, /denied|cancelled|polkit/i);
  assert.ok((f.hint as string).length > 10);
  assert.ok(!events.some((e) => e.ev === 'hello'));
  assert.equal(
    events.filter((e) => e.ev === 'state').pop()?.s,
    'stopped',
    'stop() after failure leaves state stopped',
  );
  assert.ok(events.some((e) => e.ev === 'state' && e.s === 'failed'));
});

test('a user-writable install dir is refused with NOT_INSTALLED before pkexec runs', { skip }, async () => {
  await setRule(allowUser(`action.id === "${POLKIT_ACTION}"`));
  const dir = path.join(rig.work, 'user-owned');
  mkdirSync(dir);
  copyFileSync(path.join(INSTALL_DIR, 'hotspot-helper'), path.join(dir, 'hotspot-helper'));
  const uid = Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' }));
  chownSync(dir, uid, uid);
  chownSync(path.join(dir, 'hotspot-helper'), uid, uid);
  const events = await runDriver(['supervise', dir, '1']);
  const f = events.find((e) => e.ev === 'failure');
  assert.equal(f?.code, 'NOT_INSTALLED');
  assert.match(f?.message as string, /not owned by root/);
  assert.match(f?.hint as string, /Hotspot: Install Helper/);
  assert.ok(!events.some((e) => e.ev === 'log' && /starting helper/.test(e.m as string)), 'pkexec never ran');
});

test('Install Helper as a normal user goes through pkexec /bin/sh and installs a verified root-owned tree', {
  skip,
}, async () => {
  const dir = `${INSTALL_DIR}-byuser`;
  // Allow exactly pkexec of /bin/sh for this user, which is what installHelper asks for.
  await setRule(
    allowUser(`action.id === "org.freedesktop.policykit.exec" && action.lookup("program") === "/bin/sh"`),
  );
  try {
    const events = await runDriver(['install', ROOT, dir]);
    const r = events.find((e) => e.ev === 'installed');
    assert.ok(r, `install failed: ${JSON.stringify(events.find((e) => e.ev === 'installError'))}`);
    assert.equal(r.elevated, true);
    assert.equal(r.installedSha256, r.sourceSha256);
    const ls = execFileSync(
      'stat',
      ['-c', '%u %a', dir, path.join(dir, 'hotspot-helper'), path.join(dir, 'helper.js')],
      {
        encoding: 'utf8',
      },
    );
    assert.deepEqual(ls.trim().split('\n'), ['0 755', '0 755', '0 644']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await setRule(undefined);
  }
});

test('with polkitd gone pkexec cannot reach the authority: PKEXEC_UNAVAILABLE', { skip }, async (t) => {
  execFileSync('bash', [path.join(ROOT, 'scripts/e2e/polkit.sh'), 'stop'], { stdio: 'inherit' });
  const up = spawnSync('dbus-send', [
    '--system',
    '--print-reply',
    '--dest=org.freedesktop.DBus',
    '/',
    'org.freedesktop.DBus.NameHasOwner',
    'string:org.freedesktop.PolicyKit1',
  ]);
  if (up.stdout?.toString().includes('true')) {
    t.skip('polkitd was already running before the test; not stopping it');
    return;
  }
  const events = await runDriver(['supervise', INSTALL_DIR, '1']);
  const f = events.find((e) => e.ev === 'failure');
  assert.equal(f?.code, 'PKEXEC_UNAVAILABLE');
  assert.match(f?.message as string, /polkit/);
});
