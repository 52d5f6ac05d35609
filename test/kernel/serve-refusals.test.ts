// `hotspot serve` given bad input or bad luck: each refusal is one clear message and its own exit code, nothing
// is left attached (even when serve itself is killed with SIGKILL); a bad config on SIGHUP keeps the old one;
// /healthz turns 503 (with why) when windows stop.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { CLI, exited, progIds, programsLeft, serve, serveToExit, waitFor } from './serve-util';

test('flags refused before anything starts: exit 2 and what to do', async () => {
  const cases: [string[], RegExp][] = [
    [['--listen', '300.1.1.1:9464'], /--listen: "300.1.1.1" is not an IP address/],
    [['--listen', 'localhost'], /is not host:port/],
    [['--listen', '0.0.0.0:9464'], /0.0.0.0 is not a loopback address.*add --listen-public/],
    [['--listen', '[::]:9464'], /:: is not a loopback address/],
    [['--interval', 'soon'], /--interval: "soon" is not a duration/],
  ];
  for (const [args, want] of cases) {
    const r = await serveToExit(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, want);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  }
});

test('a config error: exit 2 naming file, line and key', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hotspot-serve-cfg-'));
  try {
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, 'cpu_bound:\n  min_demand_percent: lots\n');
    const r = await serveToExit(['--config', file]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`${file}:2:\\d+: cpu_bound.min_demand_percent`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a taken port: exit 3 saying so, and the helper it started is gone with its programs', {
  timeout: 60_000,
}, async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as { port: number }).port;
  const before = progIds();
  try {
    const r = await serveToExit(['--interval', '1s', '--listen', `127.0.0.1:${port}`]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, new RegExp(`cannot listen on 127.0.0.1:${port} is already in use`));
    await waitFor('no program of the session left', 10_000, async () =>
      [...progIds()].some((id) => !before.has(id)) ? undefined : true,
    );
  } finally {
    blocker.close();
  }
});

test('the helper cannot start (unprivileged, none installed): exit 4 with the reason', {
  timeout: 60_000,
  skip:
    existsSync('/usr/local/lib/hotspot') || existsSync('/usr/lib/hotspot')
      ? 'a helper is installed on this machine'
      : false,
}, async () => {
  const child = spawn(
    'setpriv',
    [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      process.execPath,
      CLI,
      'serve',
      '--listen',
      '127.0.0.1:0',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => {
    err += c;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await exited(child);
  clearTimeout(timer);
  assert.equal(code, 4, err);
  assert.match(err, /not installed safely/);
  assert.match(err, /nothing to serve; stopping/);
});

test('kill -9 of serve: its root helper goes with it, and no program stays loaded', {
  timeout: 60_000,
}, async () => {
  const before = progIds();
  const s = await serve(['--interval', '1s', '--listen', '127.0.0.1:0']);
  let helper = 0;
  try {
    await waitFor('the helper is running', 20_000, async () => {
      helper = Number(spawnSync('pgrep', ['-P', String(s.child.pid)], { encoding: 'utf8' }).stdout.trim());
      return helper > 0 ? true : undefined;
    });
    await waitFor('the helper holds its programs', 20_000, async () =>
      [...progIds()].some((id) => !before.has(id)) ? true : undefined,
    );
    s.child.kill('SIGKILL'); // no handler runs: only the helper's own parent-death watch can end it
    assert.equal(await exited(s.child), 'SIGKILL');
    await waitFor('the helper is gone', 10_000, async () =>
      existsSync(`/proc/${helper}`) ? undefined : true,
    );
    assert.deepEqual(await programsLeft(before), [], 'no program of the killed service stays loaded');
  } finally {
    if (helper && existsSync(`/proc/${helper}`)) process.kill(helper, 'SIGKILL');
  }
});

test('SIGHUP: a bad file is reported and the old config kept; a good one is taken; /healthz follows the windows', {
  timeout: 90_000,
}, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hotspot-serve-hup-'));
  const file = path.join(dir, 'hotspot.yaml');
  writeFileSync(file, 'cpu_bound:\n  min_demand_percent: 80\n', { mode: 0o644 });
  spawnSync('chmod', ['755', dir]);
  const before = progIds();
  const s = await serve(['--interval', '1s', '--listen', '127.0.0.1:0', '--config', file]);
  const metric = async (name: string) => {
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(await (await fetch(`${s.url}/metrics`)).text());
    return m ? Number(m[1]) : undefined;
  };
  try {
    await waitFor('healthz 200', 20_000, async () =>
      (await fetch(`${s.url}/healthz`)).status === 200 ? true : undefined,
    );
    writeFileSync(file, 'cpu_bound:\n  min_demand_percent: 80\n  no_such_key: 1\n');
    s.child.kill('SIGHUP');
    await waitFor('the reload failure reported', 10_000, async () =>
      /SIGHUP: kept the previous config: .*hotspot.yaml:3:\d+: cpu_bound.no_such_key/.test(s.stderr())
        ? true
        : undefined,
    );
    assert.equal(await metric('hotspot_config_last_reload_successful'), 0);
    assert.equal((await fetch(`${s.url}/healthz`)).status, 200, 'still serving with the old config');
    writeFileSync(file, 'cpu_bound:\n  min_demand_percent: 70\n');
    s.child.kill('SIGHUP');
    await waitFor('the reload', 10_000, async () => (/SIGHUP: reloaded/.test(s.stderr()) ? true : undefined));
    assert.equal(await metric('hotspot_config_last_reload_successful'), 1);

    // Windows stop (the helper is paused): 503 saying the last window is stale, then 200 again once resumed.
    const helper = Number(
      spawnSync('pgrep', ['-P', String(s.child.pid)], { encoding: 'utf8' })
        .stdout.trim()
        .split('\n')[0],
    );
    assert.ok(helper > 0, "the helper is serve's child");
    process.kill(helper, 'SIGSTOP');
    let body = '';
    try {
      body = await waitFor('healthz 503', 5000, async () => {
        const r = await fetch(`${s.url}/healthz`);
        return r.status === 503 ? r.text() : undefined;
      });
    } finally {
      process.kill(helper, 'SIGCONT');
    }
    assert.match(body, /^unhealthy: stale: last window \d+\.\d s ago \(window 1 s\)/);
    await waitFor('healthz 200 again', 10_000, async () =>
      (await fetch(`${s.url}/healthz`)).status === 200 ? true : undefined,
    );
  } finally {
    const code = await s.stop();
    rmSync(dir, { recursive: true, force: true });
    assert.equal(code, 0, s.stderr());
    assert.deepEqual(await programsLeft(before), [], 'SIGTERM leaves no program attached');
  }
});
