// Installs the privileged helper where pkexec may run it: a root-owned tree under /usr/local/lib/hotspot with a
// `hotspot-helper` launcher, plus a polkit action naming that launcher. vscode-free, so tests drive it directly.
// Security: the extension directory is user-writable, so nothing in it is trusted as such. Exactly the files of the
// manifest written at packaging are staged, each checked against its hash; pkexec only ever runs /bin/sh with a fixed
// script from this file, which checks the target directories as root, checks every copied file again on the
// root-owned copy, and writes the launcher and, last, the polkit policy.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { sudoInstallCommand } from './environment';
import {
  DEFAULT_INSTALL_DIR,
  HELPER_NODE_FLAGS,
  LAUNCHER,
  type Logger,
  PKEXEC,
  unsafeForRoot,
} from './supervisor';

export const POLKIT_ACTION = 'dev.hotspot.helper';
export const DEFAULT_POLICY_DIR = '/usr/share/polkit-1/actions';
/** The manifest's name in the installed tree and in the staging dir. */
const MANIFEST = 'helper-manifest.sha256';
/** Where the manifest is in the extension (written at packaging by scripts/helper-manifest.mjs). */
export const MANIFEST_SOURCE = `dist/${MANIFEST}`;

export interface InstallOptions {
  /** Where dist/helper.js, bpf/*.bpf.o and node_modules/koffi are found (the extension or the repo root). */
  extensionPath: string;
  log: Logger;
  installDir?: string;
  /** For tests; the policy file name (dev.hotspot.helper.policy) is fixed. */
  policyDir?: string;
}

export interface InstallResult {
  installDir: string;
  launcher: string;
  policyFile: string;
  node: string;
  /** SHA-256 of the source dist/helper.js and of the installed copy; equal when the install is verified. */
  sourceSha256: string;
  installedSha256: string;
  /** SHA-256 of the manifest every installed file was checked against (shown in the install flow). */
  manifestSha256: string;
  /** How many files were checked against it (as the user, as root, and after the install). */
  verifiedFiles: number;
  elevated: boolean;
}

export class InstallError extends Error {
  override name = 'InstallError';
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

// $1 staged tree, $2 install dir, $3 root-owned node, $4 polkit actions dir, $5 the manifest's SHA-256 (shown to the
// user: pkexec's dialog displays this command line). Paths are pre-validated (no quotes, spaces or newlines).
// Order: check every directory it will write into, as root, before writing anything; verify every copied file
// against the manifest; swap the tree into place; write the polkit policy last. Any failure removes what this run
// wrote (and restores the previous tree), so a failed install never leaves a policy naming an unverified launcher.
const INSTALL_SCRIPT = `set -eu
src=$1 dst=$2 node=$3 policy_dir=$4 summary=$5
umask 022
fail() { echo "$*" >&2; exit 3; }
# Every existing component of $1, as written and resolved, must be root-owned and not writable by group or others:
# otherwise the user could swap a directory (or the link to it) and make pkexec run their files as root.
safe_chain() {
  for p in "$1" "$(realpath -m -- "$1")"; do
    while :; do
      if [ -L "$p" ]; then
        [ "$(stat -c %u -- "$p")" = 0 ] || { echo "$p (a link) is not owned by root"; return 1; }
      elif [ -e "$p" ]; then
        [ "$(stat -c %u -- "$p")" = 0 ] || { echo "$p is not owned by root"; return 1; }
        [ $((0$(stat -c %a -- "$p") & 18)) = 0 ] || { echo "$p is writable by group or others"; return 1; }
      fi
      [ "$p" = / ] && break
      p=$(dirname -- "$p")
    done
  done
}
why=$(safe_chain "$dst") || fail "refusing to install into $dst: $why"
why=$(safe_chain "$policy_dir") || fail "refusing to write the polkit policy into $policy_dir: $why"
why=$(safe_chain "$node") || fail "refusing $node: $why"
[ "$(sha256sum < "$src/${MANIFEST}" | cut -d' ' -f1)" = "$summary" ] || fail "the manifest is not the one shown (sha256 $summary)"
mkdir -p "$(dirname "$dst")" "$policy_dir"
new=$(mktemp -d "$dst.new.XXXXXX")
old="" swapped=""
cleanup() {
  [ $? = 0 ] && return 0
  rm -rf "$new"
  rm -f "$policy_dir/.${POLKIT_ACTION}".*
  if [ -n "$swapped" ]; then
    rm -rf "$dst"
    if [ -n "$old" ]; then mv -T "$old" "$dst"; else rm -f "$policy_dir/${POLKIT_ACTION}.policy"; fi
  fi
}
trap cleanup EXIT
cp -R "$src/." "$new/"
if [ -n "$(find "$new" -type l)" ]; then fail "refusing symlinks in the staged helper"; fi
chown -R 0:0 "$new"
find "$new" -type d -exec chmod 0755 {} +
find "$new" -type f -exec chmod 0644 {} +
# As root, on the root-owned copy: every file hashes as the manifest says, and there is no file it does not list.
(cd "$new" && sha256sum --quiet --strict -c "${MANIFEST}") >&2 || fail "a copied file does not match the manifest"
listed=$(cut -c67- "$new/${MANIFEST}" | LC_ALL=C sort)
present=$(cd "$new" && find . -type f ! -name "${MANIFEST}" | sed 's#^\\./##' | LC_ALL=C sort)
[ "$listed" = "$present" ] || fail "the staged tree differs from the manifest's file list"
cat > "$new/${LAUNCHER}" <<EOF
#!/bin/sh
# Installed by Hotspot: the privileged eBPF helper, run by pkexec with a root-owned node.
# Every thread starts with at most what loading BPF needs (the helper drops to CAP_BPF + CAP_PERFMON once attached);
# without a setpriv that knows these capabilities the helper still starts, and drops what it can itself.
caps=-all,+setpcap,+sys_admin,+bpf,+perfmon,+sys_resource
if /usr/bin/setpriv --bounding-set=\\$caps --inh-caps=-all true 2>/dev/null; then
  exec /usr/bin/setpriv --bounding-set=\\$caps --inh-caps=-all -- $node ${HELPER_NODE_FLAGS.join(' ')} $dst/helper.js "\\$@"
fi
exec $node ${HELPER_NODE_FLAGS.join(' ')} $dst/helper.js "\\$@"
EOF
chmod 0755 "$new/${LAUNCHER}"
if [ -e "$dst" ]; then old=$(mktemp -u "$dst.old.XXXXXX"); mv -T "$dst" "$old"; fi
swapped=1
mv -T "$new" "$dst"
why=$(safe_chain "$dst/${LAUNCHER}") || fail "the installed launcher is not safe: $why"
tmp=$(mktemp "$policy_dir/.${POLKIT_ACTION}.XXXXXX")
cat > "$tmp" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE policyconfig PUBLIC "-//freedesktop//DTD PolicyKit Policy Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/PolicyKit/1/policyconfig.dtd">
<policyconfig>
  <vendor>Hotspot</vendor>
  <action id="${POLKIT_ACTION}">
    <description>Run the Hotspot eBPF helper</description>
    <message>Authentication is required to load Hotspot's eBPF programs into the kernel</message>
    <defaults>
      <allow_any>no</allow_any>
      <allow_inactive>no</allow_inactive>
      <allow_active>auth_admin_keep</allow_active>
    </defaults>
    <annotate key="org.freedesktop.policykit.exec.path">$dst/${LAUNCHER}</annotate>
  </action>
</policyconfig>
EOF
chmod 0644 "$tmp"
chown 0:0 "$tmp"
mv -f "$tmp" "$policy_dir/${POLKIT_ACTION}.policy"
swapped=""
[ -z "$old" ] || rm -rf "$old"
`;

const SAFE_PATH = /^\/[A-Za-z0-9._/+-]+$/;
/** A manifest line: hash, two spaces, a relative path of plain characters. */
const MANIFEST_LINE = /^([0-9a-f]{64}) {2}([A-Za-z0-9._@+-]+(?:\/[A-Za-z0-9._@+-]+)*)$/;

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A node binary root may run: root-owned all the way up, and really node (not Electron's VS Code binary). */
export function findRootNode(): string | undefined {
  const candidates = [process.execPath, '/usr/bin/node', '/usr/local/bin/node'];
  for (const c of candidates) {
    let real: string;
    try {
      real = realpathSync(c);
    } catch {
      continue;
    }
    if (path.basename(real) === 'node' && !unsafeForRoot(real) && SAFE_PATH.test(real)) return real;
  }
  return undefined;
}

export interface Manifest {
  /** Installed path → SHA-256, as written at packaging. */
  files: Map<string, string>;
  text: string;
  /** SHA-256 of the manifest itself: one hash that stands for every installed file. */
  summary: string;
}

/** The manifest written at packaging (scripts/helper-manifest.mjs); every installed file must be listed in it. */
export function readManifest(extensionPath: string): Manifest {
  const file = path.join(extensionPath, MANIFEST_SOURCE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new InstallError(
      `${file} is missing, so the helper's files cannot be verified.`,
      'Build Hotspot with npm run build (or npm run package), or install the hotspot-helper .deb instead.',
    );
  }
  const files = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const m = MANIFEST_LINE.exec(line);
    if (!m || m[2].split('/').some((seg) => seg === '.' || seg === '..') || files.has(m[2]))
      throw new InstallError(
        `${file} is malformed (${JSON.stringify(line.slice(0, 80))}).`,
        'Reinstall Hotspot.',
      );
    files.set(m[2], m[1]);
  }
  for (const needed of ['helper.js', 'bpf/sched.bpf.o', 'bpf/tasks.bpf.o'])
    if (!files.has(needed)) throw new InstallError(`${file} does not list ${needed}.`, 'Reinstall Hotspot.');
  return { files, text, summary: sha256(text) };
}

/** Where an installed file comes from in the extension (the inverse of scripts/helper-manifest.mjs's mapping). */
const sourceOf = (installed: string) => (installed === 'helper.js' ? 'dist/helper.js' : installed);

/**
 * Copies every file the manifest lists into a fresh private staging dir, checking each copy's hash on the way: a
 * file changed after packaging (say, a line appended to node_modules/koffi/index.cjs) stops the install here, by name.
 */
function stage(extensionPath: string, manifest: Manifest): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'hotspot-stage-'));
  try {
    for (const [rel, want] of manifest.files) {
      const from = path.join(extensionPath, sourceOf(rel));
      let data: Buffer;
      try {
        data = readFileSync(from);
      } catch {
        throw new InstallError(
          `${from} is missing.`,
          'Build Hotspot first (npm run build), or reinstall it.',
        );
      }
      const got = sha256(data);
      if (got !== want)
        throw new InstallError(
          `${sourceOf(rel)} does not match the manifest built at packaging (sha256 ${got}, expected ${want}); nothing was installed.`,
          'A file of the extension changed after packaging: reinstall the extension, or install the hotspot-helper .deb.',
        );
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true, mode: 0o700 });
      writeFileSync(path.join(dir, rel), data, { mode: 0o600, flag: 'wx' });
    }
    writeFileSync(path.join(dir, MANIFEST), manifest.text, { mode: 0o600, flag: 'wx' });
    return dir;
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Why `dir` (which may not exist yet) cannot safely hold root's files, or undefined. Every existing component of
 * the path as written and of its realpath must be root-owned and not group/other-writable: a user-writable parent
 * would let its owner swap the directory after the install and have pkexec run their code as root.
 */
export function unsafeInstallDir(dir: string): string | undefined {
  let existing = path.resolve(dir);
  while (!existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
  const chains = [path.resolve(dir)];
  try {
    chains.push(realpathSync(existing));
  } catch (e) {
    return `${existing} cannot be resolved (${(e as NodeJS.ErrnoException).code})`;
  }
  for (let p of chains)
    for (;;) {
      let st: ReturnType<typeof lstatSync> | undefined;
      try {
        st = lstatSync(p);
      } catch {
        st = undefined; // not created yet: root will create it 0755
      }
      if (st && st.uid !== 0) return `${p} is not owned by root`;
      if (st && !st.isSymbolicLink() && st.mode & 0o022) return `${p} is writable by group or others`;
      if (path.dirname(p) === p) break;
      p = path.dirname(p);
    }
  return undefined;
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; stderr: string; error?: Error }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let error: Error | undefined;
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    child.on('error', (e) => {
      error = e;
    });
    child.on('close', (code) => resolve({ code, stderr: stderr.trim(), error }));
  });
}

/**
 * Installs (or updates) the helper. As root the fixed script runs directly; otherwise through
 * `pkexec /bin/sh -c <script>`, which asks for an administrator password once.
 */
export async function installHelper(opts: InstallOptions): Promise<InstallResult> {
  const installDir = path.resolve(opts.installDir ?? DEFAULT_INSTALL_DIR);
  const policyDir = path.resolve(opts.policyDir ?? DEFAULT_POLICY_DIR);
  for (const p of [installDir, policyDir])
    if (!SAFE_PATH.test(p) || p.split('/').includes('..'))
      throw new InstallError(`Refusing the install path ${JSON.stringify(p)}.`, 'Use a plain absolute path.');
  // Before anything is written (the root script checks again, as root): a parent the user can write would let them
  // swap the tree after it was verified.
  for (const [what, dir] of [
    ['install', installDir],
    ['polkit policy', policyDir],
  ] as const) {
    const why = unsafeInstallDir(dir);
    if (why)
      throw new InstallError(
        `The ${what} directory ${dir} is not safe for root's files: ${why}. Nothing was installed.`,
        'Make every parent directory root-owned and not writable by group or others, or install the hotspot-helper .deb.',
      );
  }
  const node = findRootNode();
  if (!node)
    throw new InstallError(
      'No root-owned node binary was found to run the helper with.',
      'Install Node.js system-wide (sudo apt-get install nodejs) so /usr/bin/node exists.',
    );

  const manifest = readManifest(opts.extensionPath);
  const staged = stage(opts.extensionPath, manifest);
  const elevated = process.getuid?.() !== 0;
  opts.log.info(
    `installing the helper into ${installDir} (${elevated ? 'via pkexec' : 'as root'}): ${manifest.files.size} files, ` +
      `manifest sha256 ${manifest.summary} (compare it with hotspot-<version>.helper.sha256 published beside the .vsix)`,
  );
  try {
    // The summary is an argument, so pkexec's dialog shows it; the script refuses a manifest that does not match it.
    const script = ['-c', INSTALL_SCRIPT, 'sh', staged, installDir, node, policyDir, manifest.summary];
    const r = elevated ? await run(PKEXEC, ['/bin/sh', ...script]) : await run('/bin/sh', script);
    if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new InstallError(
        'pkexec is not installed.',
        `Install from a terminal: ${sudoInstallCommand(opts.extensionPath, findRootNode())}`,
      );
    if (elevated && (r.code === 126 || (r.code === 127 && /not authori[sz]ed/i.test(r.stderr))))
      throw new InstallError(
        'Authentication was cancelled or denied.',
        "Run 'Hotspot: Install Helper' again.",
      );
    if (elevated && r.code === 127)
      throw new InstallError(
        `pkexec could not reach polkit (${r.stderr.split('\n')[0] || 'no authority'}).`,
        `Start polkitd and the system D-Bus, or install from a terminal: ${sudoInstallCommand(opts.extensionPath, findRootNode())}`,
      );
    if (r.code !== 0)
      throw new InstallError(
        `The install script failed (code ${r.code}): ${r.stderr}. Nothing was left installed.`,
        'See the Hotspot log.',
      );
  } finally {
    rmSync(staged, { recursive: true, force: true });
  }

  const launcher = path.join(installDir, LAUNCHER);
  const why = unsafeForRoot(launcher);
  if (why)
    throw new InstallError(
      `The installed helper is not safe to run as root: ${why}.`,
      `Remove it: sudo rm -rf ${installDir} ${path.join(policyDir, `${POLKIT_ACTION}.policy`)}`,
    );
  // What root installed, read back: every listed file with its manifest hash.
  for (const [rel, want] of manifest.files)
    if (sha256(readFileSync(path.join(installDir, rel))) !== want)
      throw new InstallError(`The installed ${rel} differs from the manifest.`, 'Run the install again.');
  const result: InstallResult = {
    installDir,
    launcher,
    policyFile: path.join(policyDir, `${POLKIT_ACTION}.policy`),
    node,
    sourceSha256: sha256(readFileSync(path.join(opts.extensionPath, 'dist', 'helper.js'))),
    installedSha256: sha256(readFileSync(path.join(installDir, 'helper.js'))),
    manifestSha256: manifest.summary,
    verifiedFiles: manifest.files.size,
    elevated,
  };
  opts.log.info(
    `helper installed in ${installDir}: ${result.verifiedFiles} files match manifest sha256 ${result.manifestSha256}; ` +
      `launcher mode ${(statSync(launcher).mode & 0o777).toString(8)}`,
  );
  return result;
}
