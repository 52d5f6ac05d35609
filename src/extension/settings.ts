// The `hotspot.*` settings and the YAML thresholds file they may point at.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { loadConfigFile } from '../host/configFile';
import { type Config, DEFAULT_CONFIG, validateConfig } from '../shared/diagnosis/config';
import { explicitValue, renamedSetting } from './settingKeys';

export interface Settings {
  /** `hotspot.measurementWindow` (formerly `hotspot.intervalMs`): length of one window, ms. */
  intervalMs: number;
  /** `hotspot.processesPerDiagnosis` (formerly `hotspot.topK`). */
  topK: number;
  hideKernelThreads: boolean;
  cgroupFilter: string;
  /** Resolved absolute path, '' for the defaults. */
  configPath: string;
  scope: 'workspace' | 'all';
  /** `hotspot.dashboardHistory` (formerly `hotspot.historyWindows`). */
  historyWindows: number;
  /** `hotspot.thresholds`: overrides on top of the config file, validated by the same schema. */
  thresholds: unknown;
  /** `hotspot.profile` when the user set it (anywhere); unset leaves the config file's `profile` in force. */
  profile?: unknown;
}

const clamp = (n: number, lo: number, hi: number, def: number) =>
  Number.isFinite(n) ? Math.min(hi, Math.max(lo, Math.round(n))) : def;

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration('hotspot');
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
  // In an untrusted workspace VS Code already drops the workspace's value of this restricted setting.
  let configPath = (c.get<string>('configPath') ?? '').trim().replace(/\$\{workspaceFolder\}/g, folder);
  if (configPath.startsWith('~/')) configPath = path.join(process.env.HOME ?? '', configPath.slice(2));
  if (configPath && !path.isAbsolute(configPath)) configPath = path.resolve(folder, configPath);
  return {
    intervalMs: clamp(renamedSetting(c, 'measurementWindow', 5000), 250, 60_000, 5000),
    topK: clamp(renamedSetting(c, 'processesPerDiagnosis', 20), 1, 1000, 20),
    hideKernelThreads: c.get<boolean>('hideKernelThreads', true),
    cgroupFilter: c.get<string>('cgroupFilter', '').trim(),
    configPath,
    scope: c.get<string>('scope') === 'all' ? 'all' : 'workspace',
    historyWindows: clamp(renamedSetting(c, 'dashboardHistory', 60), 5, 1000, 60),
    thresholds: c.get('thresholds'),
    // Only where someone set it: the package.json default must not override a config file's `profile`.
    profile: explicitValue(c, 'profile'),
  };
}

/**
 * Defaults ← the YAML file (hotspot.configPath) ← the hotspot.thresholds setting. Throws ConfigError (file:line:col
 * key: what, or the setting's name and key) so the caller keeps the old config.
 */
export async function loadThresholds(
  configPath: string,
  overrides?: unknown,
  profile?: unknown,
): Promise<Config> {
  // Regular files only, at most 1 MiB, read asynchronously: a FIFO or /dev/zero here must not freeze the host.
  const cfg = configPath ? await loadConfigFile(configPath) : DEFAULT_CONFIG;
  const withOverrides = validateConfig(overrides, 'setting hotspot.thresholds', cfg); // unset or empty keeps cfg
  return profile === undefined
    ? withOverrides
    : validateConfig({ profile }, 'setting hotspot.profile', withOverrides);
}
