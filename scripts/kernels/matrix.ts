// The kernel matrix driver (npm run test:kernels → scripts/kernels/run.sh → here). For each kernel of the list it
// fetches the Debian package (apt-get download, cached in .kernels/), unpacks it (dpkg-deb -x, nothing goes to
// /boot), builds a busybox initramfs with the virtio/9p/overlay modules of that package, boots it under qemu TCG
// with the host's / as a read-only root, runs test/vm/checks.test.ts inside once, and reads back its rows over a
// 9p results share. Prints the matrix table and writes test-artifacts/kernels.json. Every boot is bounded, and so
// is the whole run: qemu is killed when its time is up.
//
// Env: HOTSPOT_KERNELS=6.1,6.12,host (a subset), HOTSPOT_KERNEL_TIMEOUT_S (one kernel, default 600),
//      HOTSPOT_MATRIX_BUDGET_S (the whole run, default 1500).
import { execFile, spawn } from 'node:child_process';
import {
  accessSync,
  constants,
  copyFileSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { release } from 'node:os';
import * as path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { promisify } from 'node:util';
import { type CheckRow, ROWS_FILE } from '../../test/vm/row';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
const CACHE = path.join(ROOT, '.kernels');
const ARTIFACT = path.join(ROOT, 'test-artifacts', 'kernels.json');
const BUSYBOX = '/bin/busybox';
/** What the initramfs needs before it can reach the host root; each with its dependencies, in load order. */
const BOOT_MODULES = ['virtio_pci', '9pnet_virtio', '9p', 'overlay', 'virtio_blk', 'ext4'];
/** The guest's scratch disk: a sparse file on the host, made ext4 afresh for every boot. */
const SCRATCH_MB = 512;

const seconds = (name: string, d: number) => {
  const v = Number(process.env[name]);
  return (Number.isFinite(v) && v > 0 ? v : d) * 1000;
};
const KERNEL_TIMEOUT_MS = seconds('HOTSPOT_KERNEL_TIMEOUT_S', 600);
const BUDGET_MS = seconds('HOTSPOT_MATRIX_BUDGET_S', 1500);
const startedAt = Date.now();

/** The qemu being run, killed if this driver is told to stop (CI cancel, Ctrl-C): no VM outlives the run. */
let current: ReturnType<typeof spawn> | undefined;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  process.on(sig, () => {
    current?.kill('SIGKILL');
    process.exit(130);
  });

const log = (m: string) => process.stdout.write(`[kernels] ${m}\n`);

interface Kernel {
  id: string;
  /** Set when the kernel cannot be run here, with the reason (printed, not a failure). */
  skip?: string;
  pkg?: string;
  version?: string;
  /** Filled in by prepare(). */
  bzImage?: string;
  release?: string;
  modulesRoot?: string;
}

interface Outcome {
  id: string;
  release?: string;
  pkg?: string;
  version?: string;
  status: 'pass' | 'fail' | 'timeout' | 'skipped';
  reason?: string;
  bootSeconds?: number;
  suiteSeconds?: number;
  exitCode?: number;
  /** The guest kernel panicked (seen on the console); see boot()'s retry. */
  panicked?: boolean;
  /** Multi-threaded TCG (one host thread per vCPU), or one thread for both. */
  tcg?: 'multi' | 'single';
  /** Why this kernel was booted a second time. */
  retried?: string;
  rows: CheckRow[];
}

async function sh(cmd: string, args: string[], cwd?: string): Promise<string> {
  const { stdout } = await run(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  return stdout;
}

/** The newest package apt-cache knows whose name matches `re` (the first group orders them), with its version. */
async function newestPackage(
  re: RegExp,
  prefix: string,
): Promise<{ pkg: string; version: string } | undefined> {
  const search = `^${prefix.replace(/\./g, '\\.')}`; // apt-cache takes a POSIX regex
  const names = (await sh('apt-cache', ['search', '--names-only', search]))
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter((n) => re.test(n));
  const key = (n: string) => (re.exec(n)?.[1] ?? '').split('.').map(Number);
  names.sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    for (let i = 0; i < Math.max(x.length, y.length); i++)
      if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
    return 0;
  });
  const pkg = names.at(-1);
  if (!pkg) return undefined;
  const version = /Candidate:\s*(\S+)/.exec(await sh('apt-cache', ['policy', pkg]))?.[1];
  return version && version !== '(none)' ? { pkg, version } : undefined;
}

/** `prefix` narrows apt-cache's own (POSIX) search; `re` picks the exact names and orders them. */
async function debianKernel(id: string, prefix: string, re: RegExp, hint: string): Promise<Kernel> {
  const found = await newestPackage(re, prefix).catch(() => undefined);
  return found ? { id, ...found } : { id, skip: `no package matching ${re.source} in apt-cache (${hint})` };
}

/** The host's own kernel, if its bzImage is readable somewhere a distribution puts it. */
function hostKernel(): Kernel {
  const rel = release();
  const candidates = [
    `/boot/vmlinuz-${rel}`,
    `/lib/modules/${rel}/vmlinuz`,
    `/usr/lib/modules/${rel}/vmlinuz`,
  ];
  for (const file of candidates)
    try {
      accessSync(file, constants.R_OK);
      const mods = `/lib/modules/${rel}`;
      return { id: 'host', release: rel, bzImage: file, modulesRoot: existsSync(mods) ? '/' : undefined };
    } catch {
      /* next */
    }
  return {
    id: 'host',
    release: rel,
    skip: `no readable bzImage for ${rel} (looked at ${candidates.join(', ')})`,
  };
}

async function kernelList(): Promise<Kernel[]> {
  const all: Record<string, () => Promise<Kernel>> = {
    '6.1': () =>
      debianKernel(
        '6.1',
        'linux-image-6.1.0-',
        /^linux-image-6\.1\.0-(\d+)-amd64$/,
        'Debian 12 main or security',
      ),
    '6.12': () =>
      debianKernel(
        '6.12',
        'linux-image-6.12.',
        /^linux-image-6\.12\.(\d+)\+deb12-amd64$/,
        'enable bookworm-security or bookworm-backports',
      ),
    host: async () => hostKernel(),
  };
  const wanted = (process.env.HOTSPOT_KERNELS ?? Object.keys(all).join(',')).split(',').map((s) => s.trim());
  return Promise.all(
    wanted.map(
      (id) => all[id]?.() ?? Promise.resolve({ id, skip: `unknown kernel id (known: ${Object.keys(all)})` }),
    ),
  );
}

/** Downloads (cached) and unpacks a Debian kernel package; runs depmod on the unpacked tree. */
async function prepare(k: Kernel): Promise<void> {
  if (!k.pkg || !k.version) return;
  const debs = path.join(CACHE, 'debs');
  mkdirSync(debs, { recursive: true });
  const prefix = `${k.pkg}_${k.version.replace(/:/g, '%3a')}_`;
  let deb = readdirSync(debs).find((f) => f.startsWith(prefix) && f.endsWith('.deb'));
  if (!deb) {
    log(`${k.id}: apt-get download ${k.pkg}=${k.version}`);
    await sh('apt-get', ['download', '-q', `${k.pkg}=${k.version}`], debs);
    deb = readdirSync(debs).find((f) => f.startsWith(prefix) && f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download left no ${prefix}*.deb`);
  }
  const tree = path.join(CACHE, `${k.pkg}_${k.version}`);
  const done = path.join(tree, '.unpacked');
  if (!existsSync(done)) {
    rmSync(tree, { recursive: true, force: true });
    await sh('dpkg-deb', ['-x', path.join(debs, deb), tree]);
    writeFileSync(done, '');
  }
  const rel = readdirSync(path.join(tree, 'lib', 'modules'))[0];
  k.release = rel;
  k.bzImage = path.join(tree, 'boot', `vmlinuz-${rel}`);
  k.modulesRoot = tree;
  await sh('depmod', ['-b', tree, rel]);
}

/** The .ko files (decompressed) that BOOT_MODULES need, in the order insmod must load them. */
async function bootModules(k: Kernel, into: string): Promise<string[]> {
  if (!k.modulesRoot || !k.release) return []; // a kernel without modules has them built in (or cannot boot)
  const order: string[] = [];
  for (const m of BOOT_MODULES) {
    const out = await sh('modprobe', ['-d', k.modulesRoot, '-S', k.release, '--show-depends', m]);
    for (const line of out.split('\n')) {
      const file = /^insmod (\S+)/.exec(line)?.[1]; // "builtin x" lines need nothing
      if (!file) continue;
      const name = path.basename(file).replace(/\.(xz|zst|gz)$/, '');
      if (order.includes(name)) continue;
      order.push(name);
      const dest = path.join(into, name);
      if (file.endsWith('.xz'))
        writeFileSync(
          dest,
          await run('xz', ['-dc', file], { encoding: 'buffer', maxBuffer: 2 ** 28 }).then((r) => r.stdout),
        );
      else if (file.endsWith('.zst'))
        writeFileSync(
          dest,
          await run('zstd', ['-dc', file], { encoding: 'buffer', maxBuffer: 2 ** 28 }).then((r) => r.stdout),
        );
      else if (file.endsWith('.gz'))
        writeFileSync(
          dest,
          await run('gzip', ['-dc', file], { encoding: 'buffer', maxBuffer: 2 ** 28 }).then((r) => r.stdout),
        );
      else copyFileSync(file, dest);
    }
  }
  return order;
}

/** The one command the VM runs: the check suite, from this repository, as root. */
function suiteCommand(k: Kernel): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return [
    `cd ${q(ROOT)} || exit 97`,
    'export HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin CI=1',
    'export HOTSPOT_VM_RESULTS=/results',
    // A file of the read-only host root, not mapped by anything: re-read through the page cache for major faults.
    `export HOTSPOT_VM_COLD_FILE=${q(k.bzImage ?? '')}`,
    'export HOTSPOT_VM_SCRATCH=/scratch',
    `exec ${q(process.execPath)} --import tsx --test --test-concurrency=1 --test-reporter=spec test/vm/checks.test.ts`,
    '',
  ].join('\n');
}

async function buildInitramfs(k: Kernel, dir: string): Promise<string> {
  const stage = path.join(dir, 'initramfs');
  rmSync(stage, { recursive: true, force: true });
  for (const d of ['bin', 'modules', 'proc', 'sys', 'dev'])
    mkdirSync(path.join(stage, d), { recursive: true });
  copyFileSync(BUSYBOX, path.join(stage, 'bin', 'busybox'));
  copyFileSync(path.join(__dirname, 'init.sh'), path.join(stage, 'init'));
  const order = await bootModules(k, path.join(stage, 'modules'));
  writeFileSync(path.join(stage, 'modules', 'order'), `${order.join('\n')}\n`);
  writeFileSync(path.join(stage, 'cmd'), suiteCommand(k));
  await run('chmod', ['0755', path.join(stage, 'init'), path.join(stage, 'bin', 'busybox')]);
  const cpio = path.join(dir, 'initramfs.cpio');
  await run('sh', ['-c', `cd "$1" && find . | "$2" cpio -o -H newc > "$3"`, 'sh', stage, BUSYBOX, cpio]);
  return cpio;
}

async function boot(k: Kernel, timeoutMs: number, tcg: 'multi' | 'single'): Promise<Outcome> {
  const base: Outcome = {
    id: k.id,
    release: k.release,
    pkg: k.pkg,
    version: k.version,
    status: 'fail',
    tcg,
    rows: [],
  };
  const dir = path.join(CACHE, 'runs', k.id);
  const results = path.join(dir, 'results');
  rmSync(results, { recursive: true, force: true });
  mkdirSync(results, { recursive: true });
  const initrd = await buildInitramfs(k, dir);
  const scratch = path.join(dir, 'scratch.img');
  rmSync(scratch, { force: true });
  await run('truncate', ['-s', `${SCRATCH_MB}M`, scratch]);
  await run('mkfs.ext4', ['-q', '-F', scratch]);
  const args = [
    ...['-accel', `tcg,thread=${tcg}`, '-cpu', 'max', '-smp', '2', '-m', '4G'],
    ...['-nodefaults', '-no-reboot', '-display', 'none', '-monitor', 'none', '-serial', 'stdio'],
    ...['-kernel', k.bzImage!, '-initrd', initrd],
    ...['-append', 'console=ttyS0 panic=-1 quiet loglevel=4 rdinit=/init'],
    ...['-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap'],
    ...['-virtfs', `local,path=${results},mount_tag=results,security_model=none,multidevs=remap`],
    ...['-drive', `file=${scratch},if=virtio,format=raw`],
  ];
  log(
    `${k.id}: booting ${k.release} under qemu TCG, ${tcg}-threaded (timeout ${Math.round(timeoutMs / 1000)} s)`,
  );
  // One file per boot mode: a single-threaded retry must not overwrite the console of the boot that failed.
  const consolePath = path.join(dir, `console-${tcg}.log`);
  const consoleLog = createWriteStream(consolePath);
  const t0 = Date.now();
  let bootedAt: number | undefined;
  let panicked = false;
  const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  current = qemu;
  let partial = '';
  const utf8 = new StringDecoder('utf8'); // a chunk can end inside a character (the test reporter's ✔)
  const onOutput = (c: Buffer) => {
    consoleLog.write(c);
    partial += utf8.write(c);
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const raw of lines) {
      const line = raw.replace(/\r$/, '');
      // The suite's first output means the root is mounted and node runs: the boot is over.
      if (bootedAt === undefined && /^(▶|✔|✖|﹣|ℹ|# )/.test(line.trimStart())) bootedAt = Date.now();
      if (/Kernel panic - not syncing/.test(line)) panicked = true;
      process.stdout.write(`[${k.id}] ${line}\n`);
    }
  };
  qemu.stdout.on('data', onOutput);
  qemu.stderr.on('data', onOutput);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    log(`${k.id}: no result after ${Math.round(timeoutMs / 1000)} s, killing qemu`);
    qemu.kill('SIGKILL');
  }, timeoutMs);
  const qemuCode = await new Promise<number | null>((r) => qemu.on('close', r));
  clearTimeout(timer);
  current = undefined;
  consoleLog.end();
  const out: Outcome = { ...base, panicked, bootSeconds: bootedAt && (bootedAt - t0) / 1000 };
  if (bootedAt) out.suiteSeconds = (Date.now() - bootedAt) / 1000;
  const rowsFile = path.join(results, ROWS_FILE);
  if (existsSync(rowsFile))
    out.rows = readFileSync(rowsFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as CheckRow);
  const codeFile = path.join(results, 'exit-code');
  if (existsSync(codeFile)) out.exitCode = Number(readFileSync(codeFile, 'utf8').trim());
  if (timedOut)
    return { ...out, status: 'timeout', reason: `killed after ${Math.round(timeoutMs / 1000)} s` };
  if (out.exitCode === undefined)
    return {
      ...out,
      status: 'fail',
      reason: `${panicked ? 'the guest kernel panicked' : 'no exit code from the VM'} (qemu exited ${qemuCode}); see ${consolePath}`,
    };
  if (!out.rows.length) return { ...out, status: 'fail', reason: 'the check suite wrote no rows' };
  return {
    ...out,
    status: out.exitCode === 0 ? 'pass' : 'fail',
    reason: out.exitCode === 0 ? undefined : `check suite exited ${out.exitCode}`,
  };
}

function table(outcomes: Outcome[]): string {
  const head = ['kernel', 'collector', 'attach', 'check', 'result', 'figures (helper vs /proc)'];
  const body: string[][] = [];
  for (const o of outcomes) {
    const name = o.release ?? o.id;
    if (o.status === 'skipped') body.push([name, '-', '-', '-', 'SKIPPED', o.reason ?? '']);
    for (const r of o.rows)
      body.push([name, r.collector, r.attach, r.check, r.status.toUpperCase(), r.figures]);
    if (o.status === 'timeout' || (o.status === 'fail' && !o.rows.length))
      body.push([name, '-', '-', 'run', o.status.toUpperCase(), o.reason ?? '']);
  }
  const width = head.map((h, i) => Math.max(h.length, ...body.map((r) => (i < 5 ? r[i].length : 0))));
  const fmt = (r: string[]) => r.map((c, i) => (i < 5 ? c.padEnd(width[i]) : c)).join(' | ');
  return [fmt(head), width.map((w) => '-'.repeat(w)).join('-|-'), ...body.map(fmt)].join('\n');
}

async function main(): Promise<number> {
  mkdirSync(CACHE, { recursive: true });
  const kernels = await kernelList();
  for (const k of kernels) if (k.skip) log(`${k.id}: SKIPPED — ${k.skip}`);
  // Fetch and unpack every package at once; boot them one by one as each is ready (the CPUs go to qemu).
  const ready = new Map(kernels.map((k) => [k, k.skip ? Promise.resolve() : prepare(k)]));
  for (const p of ready.values()) p.catch(() => {}); // each is awaited below; do not crash on an early rejection
  const outcomes: Outcome[] = [];
  for (const k of kernels) {
    if (k.skip) {
      outcomes.push({ id: k.id, release: k.release, status: 'skipped', reason: k.skip, rows: [] });
      continue;
    }
    try {
      await ready.get(k);
    } catch (e) {
      outcomes.push({
        id: k.id,
        pkg: k.pkg,
        version: k.version,
        status: 'fail',
        reason: `prepare: ${(e as Error).message}`,
        rows: [],
      });
      continue;
    }
    const left = BUDGET_MS - (Date.now() - startedAt);
    if (left < 60_000) {
      outcomes.push({
        id: k.id,
        release: k.release,
        status: 'skipped',
        reason: 'the run is out of its time budget',
        rows: [],
      });
      log(`${k.id}: SKIPPED — out of the ${BUDGET_MS / 1000} s budget`);
      continue;
    }
    let outcome = await boot(k, Math.min(KERNEL_TIMEOUT_MS, left), 'multi');
    // Multi-threaded TCG does not always keep the vCPUs coherent while the kernel patches its own code (an int3
    // left by text_poke_bp when a tracepoint's static key flips: "Oops: int3" in __schedule, then a panic). One
    // host thread for both vCPUs is coherent but about half as fast, so it is the retry, not the default. A guest
    // that went silent is retried the same way: 6.1 froze twice (stop 23, this stop's CI) right after the CLI
    // suite, with nothing on its console, in 2 of ~8 multi-threaded runs; the cause is not known.
    const after = BUDGET_MS - (Date.now() - startedAt);
    const panicked = outcome.panicked && outcome.exitCode === undefined;
    if ((panicked || outcome.status === 'timeout') && after >= 60_000) {
      log(
        `${k.id}: the guest ${panicked ? 'kernel panicked' : 'went silent'} under multi-threaded TCG; booting it again single-threaded`,
      );
      const first = outcome.reason;
      outcome = { ...(await boot(k, Math.min(KERNEL_TIMEOUT_MS, after), 'single')), retried: first };
    }
    outcomes.push(outcome);
  }
  mkdirSync(path.dirname(ARTIFACT), { recursive: true });
  writeFileSync(
    ARTIFACT,
    `${JSON.stringify({ generatedAt: new Date().toISOString(), kernels: outcomes }, null, 2)}\n`,
  );
  process.stdout.write(`\nKernel matrix (${ARTIFACT}):\n${table(outcomes)}\n\n`);
  for (const o of outcomes)
    log(
      `${o.release ?? o.id}: ${o.status.toUpperCase()}${o.reason ? ` — ${o.reason}` : ''}` +
        (o.retried ? ` (second boot; the first: ${o.retried})` : '') +
        (o.bootSeconds
          ? ` (boot ${o.bootSeconds.toFixed(1)} s, checks ${o.suiteSeconds?.toFixed(0)} s)`
          : ''),
    );
  log(`total ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
  if (!outcomes.some((o) => o.status !== 'skipped')) {
    log('no kernel could be run: the matrix proves nothing');
    return 1;
  }
  return outcomes.some((o) => o.status === 'fail' || o.status === 'timeout') ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`[kernels] ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
