// Facts about where the extension runs that decide what to offer: root or not, the node to run the CLI with,
// and whether this is a container that cannot load eBPF programs at all. vscode-free.
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

export const isRoot = (): boolean => process.getuid?.() === 0;

/** A node binary: the one running us when it is node, else the first `node` on PATH. */
export function nodeBinary(): string {
  if (/^node(js)?$/.test(path.basename(process.execPath))) return process.execPath;
  for (const dir of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    const p = path.join(dir, 'node');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {}
  }
  return 'node';
}

const shellQuote = (s: string) => (/^[A-Za-z0-9_./+:-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The one command that installs the helper without polkit: `sudo <node> <extension>/dist/cli.js install-helper`. */
export function sudoInstallCommand(extensionPath: string, node = nodeBinary()): string {
  return ['sudo', node, path.join(extensionPath, 'dist', 'cli.js'), 'install-helper']
    .map(shellQuote)
    .join(' ');
}

const CAP_SYS_ADMIN = 21n;
const CAP_BPF = 39n;

/** The capability masks of /proc/self/status (CapEff, CapBnd), or undefined when unreadable. */
export function readCaps(status = '/proc/self/status'): { eff: bigint; bnd: bigint } | undefined {
  try {
    const text = readFileSync(status, 'utf8');
    const get = (k: string) =>
      BigInt(`0x${text.match(new RegExp(`^${k}:\\s*([0-9a-f]+)`, 'm'))?.[1] ?? '0'}`);
    return { eff: get('CapEff'), bnd: get('CapBnd') };
  } catch {
    return undefined;
  }
}

const hasBpfCaps = (mask: bigint) => ((mask >> CAP_BPF) & 1n) === 1n || ((mask >> CAP_SYS_ADMIN) & 1n) === 1n;

export function inContainer(env: NodeJS.ProcessEnv = process.env): boolean {
  return existsSync('/.dockerenv') || existsSync('/run/.containerenv') || Boolean(env.container);
}

/**
 * Why eBPF cannot work here even as root, or undefined. Root needs CAP_BPF or CAP_SYS_ADMIN in its effective
 * set; anyone else could only gain what the bounding set allows (sudo and pkexec cannot add to it).
 */
export function bpfImpossible(
  caps = readCaps(),
  root = isRoot(),
  container = inContainer(),
): string | undefined {
  if (!caps) return undefined;
  if (hasBpfCaps(root ? caps.eff : caps.bnd)) return undefined;
  const where = container ? 'This container' : 'This environment';
  return `${where} has neither CAP_BPF nor CAP_SYS_ADMIN${root ? '' : ' in its capability bounding set'}, so no eBPF program can be loaded here, even as root.`;
}
