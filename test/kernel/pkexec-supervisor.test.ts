// HelperSupervisor's failure handling against real child processes: stand-in helpers that stall, crash, report
// NO_BTF, emit garbage, or ignore signals. As root the supervisor runs devHelperPath directly, which is what lets
// a test substitute the helper; the pkexec path itself is covered by pkexec.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { type Failure, HelperSupervisor, type SupervisorState } from '../../src/host/supervisor';

const skip = process.getuid?.() !== 0 ? 'needs root (the direct-spawn path)' : false;
const dir = mkdtempSync(path.join(tmpdir(), 'hotspot-sv-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const hello = (pid = 'process.pid') =>
  `JSON.stringify({type:'hello',v:2,version:'t',kernel:'k',pid:${pid},ncpu:2,pageSize:4096,memTotalBytes:1e9,intervalMs:200,attach:{switch:'tp_btf',tasks:'iter',exit:'tp_btf'},cgroupMode:'v2',capabilities:[]})`;
const win = `JSON.stringify({type:'window',v:2,seq:seq++,ts:Date.now(),durationNs:2e8,cpuBusyNs:[0,0],procs:[],cgroups:[],pairs:[],memAvailableBytes:1e9,self:{cpuNs:0,rssBytes:0,collectNs:0}})`;

/** Writes a stand-in helper whose body runs after `out` (line writer) and `seq` are defined. */
function fake(name: string, body: string): string {
  const file = path.join(dir, `${name}.js`);
  writeFileSync(file, `let seq = 0; const out = (s) => process.stdout.write(s + '\\n');\n${body}\n`);
  return file;
}

interface Run {
  sup: HelperSupervisor;
  failures: Failure[];
  states: SupervisorState[];
  hellos: number;
  windows: number;
}

function supervise(helper: string, extra: { maxRestarts?: number } = {}): Run {
  const sup = new HelperSupervisor({
    helperArgs: ['--interval-ms', '200'],
    devHelperPath: helper,
    log: { info() {}, warn() {}, error() {}, debug() {} },
    watchdogFactor: 3,
    ...extra,
  });
  const r: Run = { sup, failures: [], states: [], hellos: 0, windows: 0 };
  sup
    .on('failure', (f) => r.failures.push(f))
    .on('state', (s) => r.states.push(s))
    .on('hello', () => r.hellos++)
    .on('window', () => r.windows++);
  sup.start();
  return r;
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a helper that stops sending windows is killed (STALLED) and restarted', { skip }, async () => {
  const r = supervise(fake('stall', `out(${hello()}); out(${win}); setInterval(() => {}, 1000);`));
  try {
    await until(() => r.failures.some((f) => f.code === 'STALLED'), 5000, 'STALLED');
    const f = r.failures.find((x) => x.code === 'STALLED');
    assert.equal(f?.fatal, false);
    assert.ok(r.states.includes('restarting'));
    await until(() => r.hellos >= 2, 5000, 'a second hello after the restart');
  } finally {
    await r.sup.stop();
  }
  assert.equal(r.sup.state, 'stopped');
});

test('a crashing helper is restarted with backoff, then reported fatal with its last stderr line', {
  skip,
}, async () => {
  const r = supervise(
    // Its own last error line, then lines that are not its words (libbpf chatter, Node's footer).
    fake(
      'crash',
      `out(${hello()}); out(${win}); console.error('hotspot-helper: segfault-ish: boom'); console.error('libbpf: unrelated'); console.error('Node.js v20'); process.exit(3);`,
    ),
    { maxRestarts: 2 },
  );
  const t0 = Date.now();
  await until(() => r.sup.state === 'failed', 10_000, 'failed');
  const elapsed = Date.now() - t0;
  assert.equal(r.hellos, 3, 'first run + 2 restarts');
  assert.ok(elapsed >= 2900, `backoff 1 s + 2 s between runs (took ${elapsed} ms)`);
  const crashes = r.failures.filter((f) => f.code === 'CRASHED');
  assert.equal(crashes.length, 3);
  assert.deepEqual(
    crashes.map((f) => f.fatal),
    [false, false, true],
  );
  assert.match(crashes[2].message, /code 3\): segfault-ish: boom\.$/);
});

test('an uncaught exception in the helper is quoted by its error line, not by the Node.js footer', {
  skip,
}, async () => {
  const r = supervise(
    fake('throw', `out(${hello()}); out(${win}); setTimeout(() => { throw new TypeError('kaboom'); }, 50);`),
    { maxRestarts: 0 },
  );
  await until(() => r.sup.state === 'failed', 10_000, 'failed');
  const crash = r.failures.find((f) => f.code === 'CRASHED');
  assert.match(crash?.message ?? '', /code 1\): TypeError: kaboom\.$/);
});

test('a fatal helper error (NO_BTF) is reported with its hint and not retried', { skip }, async () => {
  const r = supervise(
    fake(
      'nobtf',
      `out(JSON.stringify({type:'error',v:2,code:'NO_BTF',message:'This kernel has no BTF.',hint:'Use a kernel built with CONFIG_DEBUG_INFO_BTF=y.',fatal:true})); process.exit(1);`,
    ),
  );
  await until(() => r.sup.state === 'failed', 5000, 'failed');
  await new Promise((res) => setTimeout(res, 1500)); // would have restarted after 1 s
  assert.equal(r.failures.length, 1);
  assert.deepEqual(r.failures[0], {
    code: 'NO_BTF',
    message: 'This kernel has no BTF.',
    hint: 'Use a kernel built with CONFIG_DEBUG_INFO_BTF=y.',
    fatal: true,
  });
  assert.ok(!r.states.includes('restarting'));
});

test('malformed lines are skipped with one non-fatal PROTOCOL failure; windows keep flowing', {
  skip,
}, async () => {
  const r = supervise(
    fake(
      'garbage',
      `out(${hello()}); setInterval(() => { out('not json {'); out('{"type":"window","v":1}'); out(${win}); }, 100);`,
    ),
  );
  try {
    await until(() => r.windows >= 5, 5000, '5 windows');
    const proto = r.failures.filter((f) => f.code === 'PROTOCOL');
    assert.equal(proto.length, 1, 'reported once, not per line');
    assert.equal(proto[0].fatal, false);
    assert.equal(r.sup.state, 'running');
  } finally {
    await r.sup.stop();
  }
});

test('stop() ends a helper through stdin EOF alone (as when pkexec made it root and signals are refused)', {
  skip,
}, async () => {
  const r = supervise(
    fake(
      'stdin',
      `process.on('SIGTERM', () => {}); process.stdin.on('end', () => process.exit(0)); process.stdin.resume();
       out(${hello()}); setInterval(() => out(${win}), 200);`,
    ),
  );
  await until(() => r.windows >= 1, 5000, 'a window');
  const t = Date.now();
  await r.sup.stop();
  assert.ok(Date.now() - t < 1000, `stopped in ${Date.now() - t} ms via stdin EOF`);
  assert.equal(r.sup.state, 'stopped');
  assert.deepEqual(r.failures, [], 'a requested stop is not a failure');
});

test('stop() falls back to SIGKILL after 2 s for a helper that ignores stdin and SIGTERM', {
  skip,
}, async () => {
  const r = supervise(
    fake(
      'stubborn',
      `process.on('SIGTERM', () => {}); out(${hello()}); setInterval(() => out(${win}), 200);`,
    ),
  );
  await until(() => r.windows >= 1, 5000, 'a window');
  const t = Date.now();
  await r.sup.stop();
  const ms = Date.now() - t;
  assert.ok(ms >= 1900 && ms < 4000, `stopped after ${ms} ms`);
  assert.equal(r.sup.state, 'stopped');
});
