// What root runs and where it lives: the one home of the root-path policy, read by the supervisor (which starts the
// installed launcher through pkexec), by Install Helper, by the onboarding flow and by the packaging scripts. The
// text of the launcher and of the polkit policy is generated from rootTemplates.ts with these values.
import { existsSync, lstatSync, realpathSync } from 'node:fs';
import * as path from 'node:path';

/** Where Install Helper puts the root-owned tree. */
export const DEFAULT_INSTALL_DIR = '/usr/local/lib/hotspot';
/** Where the hotspot-helper .deb installs the same tree (Debian packages do not install into /usr/local). */
export const PACKAGE_INSTALL_DIR = '/usr/lib/hotspot';
export const LAUNCHER = 'hotspot-helper';
/** pkexec by absolute path: a PATH entry the user controls must not decide what runs. */
export const PKEXEC = '/usr/bin/pkexec';
export const DEFAULT_POLICY_DIR = '/usr/share/polkit-1/actions';
/** Install Helper's polkit action; the .deb ships its own (two installs may coexist). */
export const POLKIT_ACTION = 'dev.hotspot.helper';
export const PACKAGED_POLKIT_ACTION = 'dev.hotspot.helper.packaged';
/** The node the .deb's launcher runs (the nodejs package's). */
export const PACKAGED_NODE = '/usr/bin/node';

/**
 * Node flags every launch of the helper uses (the installed launcher, the .deb's, the dev path, the bench and the
 * tests). A 1 MiB semi-space: the helper allocates little per window, and V8's default young generation grows after
 * the first window (every process in full) and never gives it back. --expose-gc lets the helper collect once a
 * burst of windows that sent most processes in full is over (see main.ts), and --compact-on-every-full-gc makes
 * that collection give back the pages it empties.
 */
export const HELPER_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=1',
  '--expose-gc',
  '--compact-on-every-full-gc',
];

/**
 * The bounding set every launcher starts the helper with (setpriv's syntax): loading BPF (sys_admin, bpf, perfmon,
 * sys_resource), cutting its own sets afterwards (setpcap), leaving uid 0 (setuid, setgid) and opening
 * /proc/kallsyms with addresses shown before it does (syslog). See src/helper/privileges.ts.
 */
export const LAUNCHER_CAPS = '-all,+setpcap,+setuid,+setgid,+syslog,+sys_admin,+bpf,+perfmon,+sys_resource';

/** A path root may be handed: absolute, plain characters only (no quotes, spaces, newlines or shell syntax). */
export const SAFE_PATH = /^\/[A-Za-z0-9._/+-]+$/;

/**
 * Why `file` is unsafe for root to run or to write into, or undefined: every existing component, both along the path
 * as given and along its realpath, must be root-owned and not writable by group or others (a link only root-owned).
 * Otherwise its owner could swap a directory, or the link to it, and have root run or install their files. With
 * `mayNotExist` (a directory root will create), components not there yet are fine: root creates them 0755.
 *
 * This is the only such check. Install Helper runs it as the user before pkexec and the root side does not repeat
 * it: a chain that is root-owned and writable by no one else can only be changed by root, so what it found holds
 * when root writes.
 */
export function unsafeForRoot(file: string, opts: { mayNotExist?: boolean } = {}): string | undefined {
  const given = path.resolve(file);
  let existing = given;
  if (opts.mayNotExist)
    while (!existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
  let real: string;
  try {
    real = realpathSync(existing);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `${existing} does not exist` : `${existing} cannot be resolved (${code})`;
  }
  for (const start of new Set([given, real])) {
    for (let p = start; ; p = path.dirname(p)) {
      let st: ReturnType<typeof lstatSync> | undefined;
      try {
        st = lstatSync(p);
      } catch {
        if (!opts.mayNotExist) return `${p} does not exist`;
      }
      if (st && st.uid !== 0) return `${p} is not owned by root`;
      if (st && !st.isSymbolicLink() && Number(st.mode) & 0o022) return `${p} is writable by group or others`;
      if (path.dirname(p) === p) break;
    }
  }
  return undefined;
}

/** The installed launcher to run: the configured dir, else the .deb's if it is installed, else Install Helper's. */
export function launcherPath(installDir?: string): string {
  if (installDir) return path.join(installDir, LAUNCHER);
  const packaged = path.join(PACKAGE_INSTALL_DIR, LAUNCHER);
  return existsSync(packaged) ? packaged : path.join(DEFAULT_INSTALL_DIR, LAUNCHER);
}

/** A node binary root may run: root-owned all the way up, and really node (not Electron's VS Code binary). */
export function findRootNode(): string | undefined {
  for (const c of [process.execPath, '/usr/bin/node', '/usr/local/bin/node']) {
    let real: string;
    try {
      real = realpathSync(c);
    } catch {
      continue;
    }
    if (path.basename(real) === 'node' && SAFE_PATH.test(real) && !unsafeForRoot(real)) return real;
  }
  return undefined;
}
