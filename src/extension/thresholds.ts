// The diagnosis thresholds in force: defaults ← the YAML file (hotspot.configPath, watched) ← hotspot.thresholds.
// A rejected file or setting is reported with where and what, and the previous thresholds stay in force.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { type Config, ConfigError, DEFAULT_CONFIG, generateConfigYaml } from '../shared/config';
import { loadThresholds, type Settings } from './settings';

// biome-ignore lint/suspicious/noTemplateCurlyInString: VS Code-style variable, expanded by readSettings
const WORKSPACE_CONFIG = '${workspaceFolder}/.vscode/hotspot.yaml';

export class Thresholds implements vscode.Disposable {
  current: Config = DEFAULT_CONFIG;
  private watcher?: vscode.FileSystemWatcher;
  private watched = '';
  private generation = 0;

  constructor(
    private readonly log: vscode.LogOutputChannel,
    private readonly settings: () => Settings,
    private readonly onChange: (c: Config) => void,
  ) {}

  /**
   * Loads file + setting again; resolves to the error message when rejected (the previous thresholds stay). The
   * file is read asynchronously; when reloads overlap, only the latest one applies its result.
   */
  async reload(): Promise<string | undefined> {
    const s = this.settings();
    this.watch(s.configPath);
    const generation = ++this.generation;
    try {
      const loaded = await loadThresholds(s.configPath, s.thresholds);
      if (generation !== this.generation) return undefined; // a newer reload is under way
      this.current = loaded;
      if (s.configPath) this.log.info(`thresholds loaded from ${s.configPath}`);
      this.onChange(this.current);
      return undefined;
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      if (generation !== this.generation) return e.message;
      this.log.error(`config rejected, the previous thresholds stay in force: ${e.message}`);
      void vscode.window
        .showErrorMessage(
          `Hotspot config error: ${e.message}. The previous thresholds stay in force.`,
          'Open Config',
        )
        .then((c) => c && this.open(e));
      return e.message;
    }
  }

  /** Reloads when the file is saved (or created), wherever it is. */
  private watch(file: string): void {
    if (file === this.watched) return;
    this.watcher?.dispose();
    this.watcher = undefined;
    this.watched = file;
    if (!file) return;
    this.watcher = vscode.workspace.createFileSystemWatcher(
      new vscode.RelativePattern(vscode.Uri.file(path.dirname(file)), path.basename(file)),
    );
    this.watcher.onDidChange(() => void this.reload());
    this.watcher.onDidCreate(() => void this.reload());
  }

  /** Opens the config at the error's position (or the settings UI for a bad setting). */
  async open(e?: ConfigError): Promise<void> {
    if (e?.file?.startsWith('setting '))
      return void vscode.commands.executeCommand('workbench.action.openSettings', 'hotspot.thresholds');
    const file = e?.file ?? this.settings().configPath;
    if (!file || !existsSync(file)) {
      const c = await vscode.window.showInformationMessage(
        'Hotspot uses its default thresholds (hotspot.configPath is not set).',
        'Generate Config',
      );
      if (c) await this.generate();
      return;
    }
    const line = Math.max(0, (e?.line ?? 1) - 1);
    const col = Math.max(0, (e?.column ?? 1) - 1);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(file), {
      selection: new vscode.Range(line, col, line, col),
    });
  }

  /** Writes the commented defaults to .vscode/hotspot.yaml and points hotspot.configPath at it. */
  async generate(): Promise<void> {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder || !vscode.workspace.isTrusted) {
      const doc = await vscode.workspace.openTextDocument({
        language: 'yaml',
        content: generateConfigYaml(),
      });
      return void vscode.window.showTextDocument(doc);
    }
    const file = path.join(folder.uri.fsPath, '.vscode', 'hotspot.yaml');
    if (!existsSync(file)) {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, generateConfigYaml());
    }
    await vscode.workspace
      .getConfiguration('hotspot')
      .update('configPath', WORKSPACE_CONFIG, vscode.ConfigurationTarget.Workspace);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(file));
  }

  dispose(): void {
    this.watcher?.dispose();
  }
}
