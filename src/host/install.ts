// Installs the privileged helper where pkexec may run it: a root-owned tree under /usr/local/lib/hotspot with a
// `hotspot-helper` launcher, plus a polkit action naming that launcher. vscode-free, so tests drive it directly.
// Security: the extension directory is user-writable, so nothing in it is trusted as such. Exactly the files of the
// manifest written at packaging are staged, each checked against its hash; pkexec only ever runs /bin/sh with a fixed
// script from this file, which copies the staged files into a directory only root can enter and checks the manifest's
// hash and every file there (the staged copy stays the user's: what was checked in it proves nothing), then writes
// the launcher and, last, the polkit policy.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { sudoInstallCommand } from './environment';
import {
  DEFAULT_INSTALL_DIR,
  DEFAULT_POLICY_DIR,
  findRootNode,
  LAUNCHER,
  PKEXEC,
  POLKIT_ACTION,
  SAFE_PATH,
  unsafeForRoot,
} from './rootPath';
import { launcherScript, polkitPolicy } from './rootTemplates';
import type { Logger } from './supervisor';

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

// $1 staged tree (the user's), $2 install dir, $3 polkit actions dir, $4 the manifest's SHA-256 (shown to the user:
// pkexec's dialog displays this command line), $5 the launcher's text, $6 the policy's text (both rendered from
// rootTemplates.ts). Paths are pre-validated (plain characters) and checked safe for root by unsafeForRoot().
// Nothing is read from the staged tree, which the user (and any process of theirs) can change at any moment, except
// to copy it: first the manifest, into a directory only root can enter, where its hash is checked against the one
// shown; then exactly the files it lists, each checked there. Links and special files are refused on root's copy
// (cp -R -P copies them as what they are, so a FIFO cannot stall root). Then the tree is swapped into place and
// the polkit policy written last. Any failure removes what this run wrote (and restores the previous tree), so a
// failed install never leaves a policy naming an unverified launcher.
const INSTALL_SCRIPT = `set -eu
src=$1 dst=$2 policy_dir=$3 summary=$4 launcher=$5 policy=$6
umask 022
fail() { echo "$*" >&2; exit 3; }
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
regular() { [ -f "$1" ] && [ ! -L "$1" ]; }
cp -R -P -- "$src/${MANIFEST}" "$new/${MANIFEST}"
regular "$new/${MANIFEST}" || fail "the staged manifest is not a regular file"
[ "$(sha256sum < "$new/${MANIFEST}" | cut -d' ' -f1)" = "$summary" ] || fail "the manifest is not the one shown (sha256 $summary)"
for f in $(cut -c67- "$new/${MANIFEST}"); do
  case "/$f/" in */../*|*/./*|*//*) fail "refusing the manifest path $f" ;; esac
  mkdir -p -- "$new/$(dirname -- "$f")"
  cp -R -P -- "$src/$f" "$new/$f"
done
[ -z "$(find "$new" ! -type f ! -type d)" ] || fail "refusing links and special files in the staged helper"
chown -R 0:0 "$new"
find "$new" -type d -exec chmod 0755 {} +
find "$new" -type f -exec chmod 0644 {} +
(cd "$new" && sha256sum --quiet --strict -c "${MANIFEST}") >&2 || fail "a copied file does not match the manifest"
listed=$(cut -c67- "$new/${MANIFEST}" | LC_ALL=C sort)
present=$(cd "$new" && find . -type f ! -name "${MANIFEST}" | sed 's#^\\./##' | LC_ALL=C sort)
[ "$listed" = "$present" ] || fail "the copied tree differs from the manifest's file list"
printf '%s' "$launcher" > "$new/${LAUNCHER}"
chmod 0755 "$new/${LAUNCHER}"
if [ -e "$dst" ]; then old=$(mktemp -u "$dst.old.XXXXXX"); mv -T "$dst" "$old"; fi
swapped=1
mv -T "$new" "$dst"
tmp=$(mktemp "$policy_dir/.${POLKIT_ACTION}.XXXXXX")
printf '%s' "$policy" > "$tmp"
chmod 0644 "$tmp"
chown 0:0 "$tmp"
mv -f "$tmp" "$policy_dir/${POLKIT_ACTION}.policy"
swapped=""
[ -z "$old" ] || rm -rf "$old"
`;

/** A manifest line: hash, two spaces, a relative path of plain characters. */
const MANIFEST_LINE = /^([0-9a-f]{64}) {2}([A-Za-z0-9._@+-]+(?:\/[A-Za-z0-9._@+-]+)*)$/;

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
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
    const why = unsafeForRoot(dir, { mayNotExist: true });
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
    const launcher = launcherScript({ node, installDir, installedBy: 'Hotspot (Install Helper)' });
    const policy = polkitPolicy({ action: POLKIT_ACTION, launcher: path.join(installDir, LAUNCHER) });
    const script = [
      '-c',
      INSTALL_SCRIPT,
      'sh',
      staged,
      installDir,
      policyDir,
      manifest.summary,
      launcher,
      policy,
    ];
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
