// The terminal CLI end to end: as root it runs the real helper and diagnoses a workload; as an unprivileged user
// with no installed helper it says so once and still diagnoses from /proc.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { startWorkload } from '../workloads';

const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');
const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];

interface JsonWindow {
  attach: { switch: string; tasks: string; exit: string };
  profile: string;
  processes: { tgid: number; label: string; cause: string; details: string[] }[];
}

/**
 * A busy loop is CPU-bound; on this shared machine it may also be Starved (others keep it waiting) or a Noisy
 * neighbor (it keeps others waiting). The cause says which.
 */
const BUSY =
  /^(runs whenever it can: \d+% of a core|wants \d+% of a core, gets \d+%|waiting for a CPU \d+% of the time|its running makes others wait \d+% of a core)/;
const BUSY_LABELS = ['CPU-bound', 'Starved', 'Noisy neighbor'];

function hotspot(args: string[], asNobody = false): { windows: JsonWindow[]; stderr: string } {
  const [cmd, argv] = asNobody
    ? ['setpriv', [...NOBODY, process.execPath, CLI, ...args]]
    : [process.execPath, [CLI, ...args]];
  // Every process of the machine, every window: well over spawnSync's 1 MiB default on a busy machine.
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 30_000, maxBuffer: 256 * 2 ** 20 });
  assert.equal(r.status, 0, `hotspot exited ${r.status}: ${r.stderr}`);
  const windows = r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as JsonWindow);
  return { windows, stderr: r.stderr };
}

test('as root: --json --windows 3 --pid diagnoses yes as CPU-bound through the eBPF helper', {
  timeout: 60_000,
}, () => {
  const w = startWorkload('cpu');
  try {
    const { windows } = hotspot([
      '--interval',
      '1s',
      '--windows',
      '3',
      '--json',
      '--pid',
      String(w.pids.cpu),
    ]);
    assert.equal(windows.length, 3);
    assert.ok(['tp_btf', 'raw_tp'].includes(windows[0].attach.switch), JSON.stringify(windows[0].attach));
    assert.equal(windows[0].profile, 'default');
    const last = windows[2].processes;
    assert.deepEqual(
      last.map((p) => p.tgid),
      [w.pids.cpu],
      '--pid keeps only the workload',
    );
    assert.ok(BUSY_LABELS.includes(last[0].label), last[0].label);
    assert.match(last[0].cause, BUSY);
    assert.ok(last[0].details.length > 0, 'the figures behind it come along');
  } finally {
    w.stop();
  }
});

test('unprivileged without an installed helper: says so once, then diagnoses from /proc', {
  timeout: 60_000,
  skip: existsSync('/usr/local/lib/hotspot') ? 'Hotspot: Install Helper was run on this machine' : false,
}, () => {
  const w = startWorkload('cpu');
  try {
    const { windows, stderr } = hotspot(['--interval', '1s', '--windows', '3', '--json'], true);
    assert.equal(stderr.match(/not installed safely/g)?.length, 1, `the failure is printed once:\n${stderr}`);
    assert.match(stderr, /degraded mode from \/proc/);
    assert.equal(windows[0].attach.tasks, 'procfs');
    assert.equal(windows[0].attach.switch, 'none');
    const d = windows.at(-1)?.processes.find((p) => p.tgid === w.pids.cpu);
    assert.ok(d && BUSY_LABELS.includes(d.label), JSON.stringify(d));
    assert.match(d.cause, BUSY);
  } finally {
    w.stop();
  }
});
