// Installs the privileged helper where pkexec may run it: a root-owned tree under /usr/local/lib/hotspot with a
// `hotspot-helper` launcher, plus a polkit action naming that launcher. vscode-free, so tests drive it directly.
// Security: pkexec only ever runs /bin/sh with a fixed script from this file; the script copies the staged files,
// makes them root:root and not writable by others, and writes the launcher and policy itself.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DEFAULT_INSTALL_DIR, LAUNCHER, type Logger, unsafeForRoot } from '../shared/supervisor';
import { sudoInstallCommand } from './environment';

export const POLKIT_ACTION = 'dev.hotspot.helper';
export const DEFAULT_POLICY_DIR = '/usr/share/polkit-1/actions';

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

// $1 staged tree, $2 install dir, $3 root-owned node, $4 polkit actions dir. Paths are pre-validated (no quotes,
// spaces or newlines). The new tree is built beside the old one and renamed into place.
const INSTALL_SCRIPT = `set -eu
src=$1 dst=$2 node=$3 policy_dir=$4
umask 022
mkdir -p "$(dirname "$dst")" "$policy_dir"
new=$(mktemp -d "$dst.new.XXXXXX")
trap 'rm -rf "$new"' EXIT
cp -R "$src/." "$new/"
if [ -n "$(find "$new" -type l)" ]; then echo "refusing symlinks in the staged helper" >&2; exit 3; fi
chown -R 0:0 "$new"
find "$new" -type d -exec chmod 0755 {} +
find "$new" -type f -exec chmod 0644 {} +
printf '#!/bin/sh\\n# Installed by Hotspot: the privileged eBPF helper, run by pkexec with a root-owned node.\\nexec %s %s/helper.js "$@"\\n' "$node" "$dst" > "$new/${LAUNCHER}"
chmod 0755 "$new/${LAUNCHER}"
old=""
if [ -e "$dst" ]; then old=$(mktemp -u "$dst.old.XXXXXX"); mv -T "$dst" "$old"; fi
mv -T "$new" "$dst"
trap - EXIT
[ -z "$old" ] || rm -rf "$old"
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
      <allow_inactive>auth_admin_keep</allow_inactive>
      <allow_active>auth_admin_keep</allow_active>
    </defaults>
    <annotate key="org.freedesktop.policykit.exec.path">$dst/${LAUNCHER}</annotate>
  </action>
</policyconfig>
EOF
chmod 0644 "$tmp"
chown 0:0 "$tmp"
mv -f "$tmp" "$policy_dir/${POLKIT_ACTION}.policy"
`;

const SAFE_PATH = /^\/[A-Za-z0-9._/+-]+$/;

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
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

/** The koffi files needed at run time: JS entry points, package.json and this platform's prebuilt .node. */
function koffiFiles(nodeModules: string): string[] {
  const keep = (rel: string) =>
    /\.(c?js|json|node)$/.test(rel) && !/^(doc|vendor|lib)\//.test(rel) && rel !== 'cnoke.cjs';
  const out: string[] = [];
  const walk = (pkgDir: string, rel: string) => {
    for (const e of readdirSync(path.join(nodeModules, pkgDir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(pkgDir, r);
      else if (e.isFile() && keep(r)) out.push(`${pkgDir}/${r}`);
    }
  };
  walk('koffi', '');
  const native = `@koromix/koffi-${process.platform}-${process.arch}`;
  if (existsSync(path.join(nodeModules, native))) walk(native, '');
  if (!out.some((f) => f.endsWith('.node')))
    throw new InstallError(
      `koffi has no prebuilt binary for ${process.platform}-${process.arch}.`,
      'Hotspot supports Linux x64 and arm64.',
    );
  return out;
}

/** Copies what the helper needs at run time into a fresh user-owned staging dir. */
function stage(extensionPath: string): string {
  const helper = path.join(extensionPath, 'dist', 'helper.js');
  if (!existsSync(helper))
    throw new InstallError(`${helper} is missing.`, 'Build Hotspot first (npm run build).');
  const bpfDir = path.join(extensionPath, 'bpf');
  const objs = existsSync(bpfDir) ? readdirSync(bpfDir).filter((f) => f.endsWith('.bpf.o')) : [];
  if (!objs.includes('sched.bpf.o'))
    throw new InstallError(`No BPF objects in ${bpfDir}.`, 'Build them first (bash scripts/build-bpf.sh).');

  const dir = mkdtempSync(path.join(tmpdir(), 'hotspot-stage-'));
  const put = (from: string, rel: string) => {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    copyFileSync(from, path.join(dir, rel));
  };
  put(helper, 'helper.js');
  if (existsSync(`${helper}.map`)) put(`${helper}.map`, 'helper.js.map');
  for (const o of objs) put(path.join(bpfDir, o), `bpf/${o}`);
  const nodeModules = path.join(extensionPath, 'node_modules');
  for (const f of koffiFiles(nodeModules)) put(path.join(nodeModules, f), `node_modules/${f}`);
  return dir;
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
  const node = findRootNode();
  if (!node)
    throw new InstallError(
      'No root-owned node binary was found to run the helper with.',
      'Install Node.js system-wide (sudo apt-get install nodejs) so /usr/bin/node exists.',
    );

  const staged = stage(opts.extensionPath);
  const elevated = process.getuid?.() !== 0;
  try {
    const script = ['-c', INSTALL_SCRIPT, 'sh', staged, installDir, node, policyDir];
    opts.log.info(`installing the helper into ${installDir} (${elevated ? 'via pkexec' : 'as root'})`);
    const r = elevated ? await run('pkexec', ['/bin/sh', ...script]) : await run('/bin/sh', script);
    if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new InstallError(
        'pkexec is not installed.',
        `Install from a terminal: ${sudoInstallCommand(opts.extensionPath)}`,
      );
    if (elevated && (r.code === 126 || (r.code === 127 && /not authori[sz]ed/i.test(r.stderr))))
      throw new InstallError(
        'Authentication was cancelled or denied.',
        "Run 'Hotspot: Install Helper' again.",
      );
    if (elevated && r.code === 127)
      throw new InstallError(
        `pkexec could not reach polkit (${r.stderr.split('\n')[0] || 'no authority'}).`,
        `Install from a terminal: ${sudoInstallCommand(opts.extensionPath)}`,
      );
    if (r.code !== 0)
      throw new InstallError(
        `The install script failed (code ${r.code}): ${r.stderr}`,
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
      'See the Hotspot log.',
    );
  const result: InstallResult = {
    installDir,
    launcher,
    policyFile: path.join(policyDir, `${POLKIT_ACTION}.policy`),
    node,
    sourceSha256: sha256(path.join(opts.extensionPath, 'dist', 'helper.js')),
    installedSha256: sha256(path.join(installDir, 'helper.js')),
    elevated,
  };
  if (result.sourceSha256 !== result.installedSha256)
    throw new InstallError('The installed helper.js differs from the source.', 'Run the install again.');
  opts.log.info(
    `helper installed in ${installDir}; helper.js sha256 ${result.installedSha256} (matches the source); ` +
      `launcher mode ${(statSync(launcher).mode & 0o777).toString(8)}`,
  );
  return result;
}
