// Starts a throwaway code-server (VS Code OSS + Node server) for the real-VS-Code tests and `npm start`.
// Everything it writes (HOME, XDG dirs, user data, extensions, config) lives under one temp dir; it runs in its
// own process group so teardown also takes the extension host, file watchers and our helper with it.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
export const CODE_SERVER_BIN = path.join(ROOT, '.e2e-tools/node_modules/.bin/code-server');
export const ARTIFACTS = path.join(ROOT, 'test-artifacts');

/** Workbench settings that keep a fresh profile quiet and offline (from the e2e feasibility note). */
export const BASE_SETTINGS: Record<string, unknown> = {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'update.mode': 'none',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'git.openRepositoryInParentFolders': 'never', // the sample workspace sits inside this repo
  'hotspot.measurementWindow': 1000,
};

export interface Profile {
  base: string;
  home: string;
  userDataDir: string;
  extensionsDir: string;
  configFile: string;
  env: NodeJS.ProcessEnv;
}

/** A fresh profile: HOME/XDG, user data (with settings.json), extensions dir and code-server config. */
export function makeProfile(settings: Record<string, unknown> = {}, extensionsDir?: string): Profile {
  const base = mkdtempSync(path.join(tmpdir(), 'hotspot-cs-'));
  const home = path.join(base, 'home');
  const userDataDir = path.join(base, 'ud');
  const ext = extensionsDir ?? path.join(base, 'ext');
  for (const d of [home, path.join(userDataDir, 'User'), ext]) mkdirSync(d, { recursive: true });
  writeFileSync(
    path.join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({ ...BASE_SETTINGS, ...settings }, null, 2),
  );
  const configFile = path.join(base, 'config.yaml');
  writeFileSync(configFile, 'auth: none\ncert: false\n');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local/share'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    CODE_SERVER_CONFIG: configFile,
  };
  return { base, home, userDataDir, extensionsDir: ext, configFile, env };
}

const profileArgs = (p: Profile) => [
  '--user-data-dir',
  p.userDataDir,
  '--extensions-dir',
  p.extensionsDir,
  '--config',
  p.configFile,
];

/** `code-server --install-extension <vsix>` into the profile's extensions dir; returns its output. */
export function installExtension(p: Profile, vsix: string): string {
  return execFileSync(CODE_SERVER_BIN, [...profileArgs(p), '--install-extension', vsix], {
    env: p.env,
    encoding: 'utf8',
    timeout: 120_000,
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface CodeServer {
  port: number;
  origin: string;
  profile: Profile;
  child: ChildProcess;
  /** Workbench URL for a folder; with devPath/testsPath it loads an extension in development mode / runs tests. */
  url(folder: string, dev?: { devPath?: string; testsPath?: string }): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  settings?: Record<string, unknown>;
  port?: number;
  /** Reuse an extensions dir (npm start); default: a fresh one in the profile. */
  extensionsDir?: string;
  /** A profile prepared earlier (e.g. to install a .vsix before starting). */
  profile?: Profile;
  /** Where the server log goes; default test-artifacts/code-server-<port>.log. */
  logFile?: string;
  /** Keep the profile dir on stop (npm start keeps nothing either way unless asked). */
  keepProfile?: boolean;
  /** Run code-server (and so the extension host) as this unprivileged user; the profile is handed to it. */
  user?: { uid: number; gid: number };
}

export async function startCodeServer(opts: StartOptions = {}): Promise<CodeServer> {
  if (!existsSync(CODE_SERVER_BIN))
    throw new Error(`code-server is not installed (${CODE_SERVER_BIN}); run: bash scripts/setup.sh --e2e`);
  const profile = opts.profile ?? makeProfile(opts.settings, opts.extensionsDir);
  const port = opts.port ?? (await freePort());
  if (opts.user) execFileSync('chown', ['-R', `${opts.user.uid}:${opts.user.gid}`, profile.base]);
  mkdirSync(ARTIFACTS, { recursive: true });
  const logFile = opts.logFile ?? path.join(ARTIFACTS, `code-server-${port}.log`);
  const log = createWriteStream(logFile);
  const child = spawn(
    CODE_SERVER_BIN,
    [
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--auth',
      'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      ...profileArgs(profile),
    ],
    {
      env: profile.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      uid: opts.user?.uid,
      gid: opts.user?.gid,
    },
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const origin = `http://127.0.0.1:${port}`;

  let exited = false;
  const exitedP = new Promise<void>((r) =>
    child.on('exit', () => {
      exited = true;
      r();
    }),
  );
  const stop = async () => {
    if (!exited && child.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {}
      const t = setTimeout(() => {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {}
      }, 3000);
      await exitedP;
      clearTimeout(t);
      // Stragglers of the group (file watcher, extension host) get the same treatment.
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }
    if (!opts.keepProfile) rmSync(profile.base, { recursive: true, force: true });
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`code-server exited at start; see ${logFile}`);
    try {
      const r = await fetch(`${origin}/healthz`);
      if (r.ok) break;
    } catch {}
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`code-server did not answer /healthz within 60 s; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }

  const remote = (p: string) => `vscode-remote://127.0.0.1:${port}${path.resolve(p)}`;
  return {
    port,
    origin,
    profile,
    child,
    stop,
    url(folder, dev) {
      const q = new URLSearchParams({ folder: path.resolve(folder) });
      const payload: [string, string][] = [];
      if (dev?.devPath) payload.push(['extensionDevelopmentPath', remote(dev.devPath)]);
      if (dev?.testsPath) payload.push(['extensionTestsPath', remote(dev.testsPath)]);
      if (payload.length) q.set('payload', JSON.stringify(payload));
      return `${origin}/?${q}`;
    },
  };
}
