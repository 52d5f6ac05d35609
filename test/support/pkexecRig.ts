// What both real-pkexec kernel tests stand on: polkitd with the system D-Bus, an unprivileged user, and a driver
// script bundled into a directory that user can read. Fields fill in as setUp goes, so tearDown undoes exactly what
// was done even when setUp failed half-way.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';

const ROOT = path.resolve(__dirname, '../..');
const POLKIT = path.join(ROOT, 'scripts/e2e/polkit.sh');

/** Why the real-pkexec tests cannot run here, or false. */
export const pkexecSkip: string | false =
  process.getuid?.() !== 0
    ? 'needs root'
    : !existsSync('/usr/bin/pkexec')
      ? 'pkexec is not installed'
      : !existsSync(path.join(ROOT, 'dist/helper.js'))
        ? 'dist/helper.js is not built'
        : false;

/** A logger for installHelper() that says nothing. */
export const quiet = { info() {}, warn() {}, error() {}, debug() {} };

export class PkexecRig {
  work = '';
  /** The bundled driver (world-readable), to run as `user` with /usr/bin/node. */
  driver = '';
  private createdUser = false;

  constructor(
    readonly user: string,
    /** The driver's source, relative to the repo root (e.g. scripts/e2e/pkexecDriver.ts). */
    private readonly driverSource: string,
  ) {}

  async setUp(): Promise<void> {
    execFileSync('bash', [POLKIT, 'start'], { stdio: 'inherit' });
    if (spawnSync('id', [this.user]).status !== 0) {
      execFileSync('useradd', ['-m', '-s', '/bin/sh', this.user]);
      this.createdUser = true;
    }
    this.work = mkdtempSync(path.join(tmpdir(), 'hotspot-pkexec-'));
    chmodSync(this.work, 0o755);
    const driver = path.join(this.work, 'driver.js');
    await build({
      entryPoints: [path.join(ROOT, this.driverSource)],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      outfile: driver,
      logLevel: 'warning',
    });
    chmodSync(driver, 0o644);
    this.driver = driver;
  }

  tearDown(): void {
    if (this.work) rmSync(this.work, { recursive: true, force: true });
    if (this.createdUser) spawnSync('userdel', ['-r', this.user]);
    execFileSync('bash', [POLKIT, 'stop'], { stdio: 'inherit' });
  }
}
