// The privileged path under attack or failure, through the real pkexec + polkitd + system D-Bus (issue 11): an
// unprivileged user supervises the installed root helper while the test stalls it. Needs root (to create the
// user, the polkit rule and the install). Uses its own user, install dir, policy dir and rule file, so it does not
// disturb the other pkexec tests.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { HELPER_UID } from '../../src/helper/privileges';
import { installHelper } from '../../src/host/install';
import { POLKIT_ACTION } from '../../src/host/rootPath';
import { PkexecRig, pkexecSkip, quiet } from '../support/pkexecRig';
import { bpfProgIds, bpfProgIdsOf } from '../support/procs';

const ROOT = path.resolve(__dirname, '../..');
const USER = 'hotspot-sec';
const INSTALL_DIR = '/usr/local/lib/hotspot-sec-test';
const POLICY_DIR = '/usr/local/lib/hotspot-sec-test-policy';
const LAUNCHER = `${INSTALL_DIR}/hotspot-helper`;
const RULE = '/etc/polkit-1/rules.d/10-hotspot-sec-test.rules';
const skip = pkexecSkip;

const rig = new PkexecRig(USER, 'scripts/e2e/securityDriver.ts');

type Ev = { ev: string; [k: string]: unknown };

/** The driver as the unprivileged user, with its events available while it runs. */
class Driver {
  readonly events: Ev[] = [];
  readonly child: ChildProcess;
  private stderr = '';
  readonly closed: Promise<void>;
  constructor(args: string[]) {
    this.child = spawn('runuser', ['-u', USER, '--', '/usr/bin/node', rig.driver, ...args], {
      cwd: '/',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buf = '';
    this.child.stdout?.setEncoding('utf8').on('data', (c: string) => {
      buf += c;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.startsWith('{')) this.events.push(JSON.parse(line) as Ev);
      }
    });
    this.child.stderr?.setEncoding('utf8').on('data', (c: string) => {
      this.stderr += c;
    });
    this.closed = new Promise((r) => this.child.on('close', () => r()));
  }
  async waitFor(pred: (e: Ev) => boolean, ms: number, what: string): Promise<Ev> {
    const end = Date.now() + ms;
    for (;;) {
      const e = this.events.find(pred);
      if (e) return e;
      if (Date.now() > end || this.child.exitCode !== null)
        throw new Error(
          `timed out waiting for ${what}; events: ${JSON.stringify(this.events.filter((x) => x.ev !== 'log'))}\n` +
            `logs: ${this.events
              .filter((x) => x.ev === 'log')
              .map((x) => x.m)
              .join('\n')}\nstderr: ${this.stderr}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

before(async () => {
  if (skip) return;
  await rig.setUp();
  await installHelper({ extensionPath: ROOT, installDir: INSTALL_DIR, policyDir: POLICY_DIR, log: quiet });
  // This user may run exactly our launcher as root: through its own action if polkit knows it, else the generic one.
  writeFileSync(
    RULE,
    `polkit.addRule(function (action, subject) {
  if (subject.user !== "${USER}") return polkit.Result.NOT_HANDLED;
  if (action.id === "${POLKIT_ACTION}" || (action.id === "org.freedesktop.policykit.exec" && action.lookup("program") === "${LAUNCHER}"))
    return polkit.Result.YES;
});
`,
    { mode: 0o644 },
  );
  await new Promise((r) => setTimeout(r, 1500)); // polkitd reloads rules on inotify
});

after(() => {
  if (skip) return;
  rmSync(RULE, { force: true });
  rmSync(INSTALL_DIR, { recursive: true, force: true });
  rmSync(POLICY_DIR, { recursive: true, force: true });
  rig.tearDown();
});

const alive = (pid: number) => existsSync(`/proc/${pid}`);
const uidOf = (pid: number) =>
  Number(/^Uid:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

/** Ends a helper the test stopped (SIGKILL works on a stopped process) and waits for its programs to go. */
async function reap(pid: number, progs: number[]): Promise<void> {
  if (!pid) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {}
  for (let i = 0; i < 100 && (alive(pid) || progs.some((id) => bpfProgIds().has(id))); i++)
    await new Promise((r) => setTimeout(r, 100));
}

test('a stalled root helper (SIGSTOP) is reported STALLED with the exact command that ends it', {
  skip,
  timeout: 120_000,
}, async () => {
  const d = new Driver(['stall', INSTALL_DIR]);
  let pid = 0;
  let progs: number[] = [];
  try {
    const ready = await d.waitFor((e) => e.ev === 'ready', 60_000, 'the first window');
    pid = ready.helperPid as number;
    assert.equal(uidOf(pid), HELPER_UID, 'started by pkexec as root, the attached helper runs as nobody');
    // …with no more than reading its maps needs, and no way to regain privileges (finding 12).
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    assert.match(status, /^NoNewPrivs:\s*1$/m);
    const capEff = BigInt(`0x${/^CapEff:\s*(\w+)/m.exec(status)?.[1]}`);
    assert.equal(capEff & ~((1n << 38n) | (1n << 39n) | (1n << 24n)), 0n, `CapEff ${capEff.toString(16)}`);
    // Every other thread was started by the launcher with at most what loading and leaving root need (setpriv's
    // bounding set: CAP_SETGID, CAP_SETUID, CAP_SETPCAP, CAP_SYS_ADMIN, CAP_SYS_RESOURCE, CAP_SYSLOG, CAP_PERFMON,
    // CAP_BPF — no CAP_DAC_OVERRIDE, CAP_SYS_MODULE, …), and left uid 0 with the main thread.
    const loadCaps = [6n, 7n, 8n, 21n, 24n, 34n, 38n, 39n].reduce((m, c) => m | (1n << c), 0n);
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const t = readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8');
      assert.match(t, new RegExp(`^Uid:\\s+${HELPER_UID}\\s`, 'm'), `thread ${task} left uid 0`);
      for (const field of ['CapEff', 'CapPrm', 'CapBnd']) {
        const v = BigInt(`0x${new RegExp(`^${field}:\\s*(\\w+)`, 'm').exec(t)?.[1]}`);
        assert.equal(v & ~loadCaps, 0n, `thread ${task} ${field} ${v.toString(16)}`);
      }
    }
    progs = bpfProgIdsOf(pid);
    process.kill(pid, 'SIGSTOP');
    const stoppedAt = Date.now();
    const f = await d.waitFor((e) => e.ev === 'failure', 30_000, 'a failure');
    assert.equal(f.code, 'STALLED');
    assert.match(f.message as string, new RegExp(`still running as pid ${pid}\\b`));
    assert.equal(f.hint, `End it with: sudo kill -9 ${pid}`);
    const took = (f.at as number) - stoppedAt;
    // Watchdog 1.5 s after the last window + 5 s to abandon; generous slack for a loaded shared machine.
    assert.ok(took < 25_000, `reported ${took} ms after the stall`);
    const stopped = await d.waitFor((e) => e.ev === 'stopped', 10_000, 'stop() after the failure');
    assert.equal(stopped.state, 'stopped');
    assert.ok(alive(pid), 'the stalled root helper is still there: Hotspot could not end it, and said so');
  } finally {
    d.child.kill('SIGKILL');
    await reap(pid, progs);
  }
  assert.equal(alive(pid), false);
});

test('stop() on a stalled root helper resolves within its bound and says how to end it', {
  skip,
  timeout: 120_000,
}, async () => {
  const d = new Driver(['stop-stalled', INSTALL_DIR]);
  let pid = 0;
  let progs: number[] = [];
  try {
    const ready = await d.waitFor((e) => e.ev === 'ready', 60_000, 'the first window');
    pid = ready.helperPid as number;
    progs = bpfProgIdsOf(pid);
    process.kill(pid, 'SIGSTOP');
    process.kill(ready.driverPid as number, 'SIGUSR1');
    const stopped = await d.waitFor((e) => e.ev === 'stopped', 20_000, 'stop() to resolve');
    assert.equal(stopped.state, 'stopped');
    // Bounded by the 5 s abandonment timer (plus scheduling slack on a shared machine), not by the helper.
    assert.ok(
      (stopped.ms as number) >= 4500 && (stopped.ms as number) < 9000,
      `stop() took ${stopped.ms} ms`,
    );
    const f = d.events.find((e) => e.ev === 'failure');
    assert.equal(f?.code, 'ABANDONED');
    assert.equal(f?.hint, `End it with: sudo kill -9 ${pid}`);
  } finally {
    d.child.kill('SIGKILL');
    await reap(pid, progs);
  }
});
