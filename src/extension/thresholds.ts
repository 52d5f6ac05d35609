// The diagnosis thresholds in force: defaults ← the YAML file (hotspot.configPath, watched) ← hotspot.thresholds.
// A rejected file is reported in the Problems panel at file:line:col (cleared once fixed); the thresholds in force
// stay (the defaults when nothing was loaded yet), and the notification says which.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { type Config, ConfigError, DEFAULT_CONFIG, generateConfigYaml } from '../shared/config';
import { loadThresholds, type Settings } from './settings';

// biome-ignore lint/suspicious/noTemplateCurlyInString: VS Code-style variable, expanded by readSettings
const WORKSPACE_CONFIG = '${workspaceFolder}/.vscode/hotspot.yaml';

const hasKeys = (o: unknown) => typeof o === 'object' && o !== null && Object.keys(o).length > 0;

/** Why the thresholds are being read again (for the log, and to decide whether to speak up). */
export type ReloadReason = 'activate' | 'start' | 'save' | 'settings';

export class Thresholds implements vscode.Disposable {
  current: Config = DEFAULT_CONFIG;
  /** When the thresholds in force were loaded from a file or setting (undefined: the defaults). */
  private loadedAt?: Date;
  private watcher?: vscode.FileSystemWatcher;
  private watched = '';
  private readonly problems = vscode.languages.createDiagnosticCollection('hotspot');
  private readonly saveListener: vscode.Disposable;
  /** The error notification on screen; resolving it takes the notification away (once the file is fixed). */
  private dismissError?: () => void;
  private shownError = '';
  private debounce?: NodeJS.Timeout;
  private generation = 0;

  constructor(
    private readonly log: vscode.LogOutputChannel,
    private readonly settings: () => Settings,
    private readonly onChange: (c: Config) => void,
  ) {
    // The file watcher can miss editor saves (atomic renames, files outside the workspace, slow watchers), and
    // saves from VS Code are the common case: listen to both; the debounce folds the double event into one read.
    this.saveListener = vscode.workspace.onDidSaveTextDocument((doc) => {
      const file = this.settings().configPath;
      if (file && path.resolve(doc.uri.fsPath) === path.resolve(file)) this.reloadSoon('save');
    });
  }

  private reloadSoon(reason: ReloadReason): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.reload(reason), 50);
  }

  /**
   * Loads file + setting again; returns the error message when rejected. A rejected config leaves the thresholds
   * that were in force (the defaults when none was ever loaded), shows the error in the Problems panel at its
   * file:line:col, and keeps a notification up until the config is fixed. The file is read asynchronously; when
   * reloads overlap, only the latest one applies its result.
   */
  async reload(reason: ReloadReason = 'settings'): Promise<string | undefined> {
    const s = this.settings();
    this.watch(s.configPath);
    const generation = ++this.generation;
    try {
      const loaded = await loadThresholds(s.configPath, s.thresholds, s.profile);
      if (generation !== this.generation) return undefined; // a newer reload is under way
      this.current = loaded;
      this.loadedAt = s.configPath || hasKeys(s.thresholds) ? new Date() : undefined;
      if (s.configPath) this.log.info(`thresholds loaded from ${s.configPath} (${reason})`);
      this.problems.clear();
      this.clearError();
      this.onChange(this.current);
      return undefined;
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      if (generation !== this.generation) return e.message;
      const inForce = this.loadedAt
        ? `The thresholds loaded at ${this.loadedAt.toLocaleTimeString()} stay in force`
        : 'The default thresholds apply';
      this.log.error(`config rejected (${reason}): ${e.message}. ${inForce}.`);
      this.problems.clear();
      if (e.file && !e.file.startsWith('setting ')) {
        const line = Math.max(0, (e.line ?? 1) - 1);
        const col = Math.max(0, (e.column ?? 1) - 1);
        const d = new vscode.Diagnostic(
          new vscode.Range(line, col, line, col + 1),
          `${e.key ? `${e.key}: ` : ''}${e.detail}`,
          vscode.DiagnosticSeverity.Error,
        );
        d.source = 'Hotspot';
        this.problems.set(vscode.Uri.file(e.file), [d]);
      }
      this.showError(`Hotspot config error: ${e.message}. ${inForce} until it is fixed.`, e);
      return e.message;
    }
  }

  /** One notification per distinct error, taken away when the config loads again. */
  private showError(text: string, e: ConfigError): void {
    if (text === this.shownError) return;
    this.clearError();
    this.shownError = text;
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: text, cancellable: true },
      (_, token) =>
        new Promise<void>((resolve) => {
          this.dismissError = resolve;
          token.onCancellationRequested(() => {
            // Closed by the user: the next save or Start with the same error may say it again.
            if (this.dismissError === resolve) this.clearError();
            resolve();
          });
        }),
    );
    // The Problems entry opens the file at the spot; a bad setting has no file, so offer the settings UI.
    if (e.file?.startsWith('setting ')) void this.open(e);
  }

  private clearError(): void {
    this.dismissError?.();
    this.dismissError = undefined;
    this.shownError = '';
  }

  /** Reloads when the file is saved (or created, or removed), wherever it is. */
  private watch(file: string): void {
    if (file === this.watched) return;
    this.watcher?.dispose();
    this.watcher = undefined;
    this.watched = file;
    if (!file) return;
    this.watcher = vscode.workspace.createFileSystemWatcher(
      new vscode.RelativePattern(vscode.Uri.file(path.dirname(file)), path.basename(file)),
    );
    this.watcher.onDidChange(() => this.reloadSoon('save'));
    this.watcher.onDidCreate(() => this.reloadSoon('save'));
    this.watcher.onDidDelete(() => this.reloadSoon('save'));
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
    clearTimeout(this.debounce);
    this.clearError();
    this.watcher?.dispose();
    this.saveListener.dispose();
    this.problems.dispose();
  }
}
