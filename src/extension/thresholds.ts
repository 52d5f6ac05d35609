// The diagnosis thresholds in force: defaults ← the YAML file (hotspot.configPath, watched) ← hotspot.thresholds.
// A rejected file is reported in the Problems panel at file:line:col (cleared once fixed); the thresholds in force
// stay (the defaults when nothing was loaded yet), and the notification says which.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readConfigText } from '../host/configFile';
import { ignoredKeyWarnings, valueEnd } from '../host/configWarnings';
import { type Config, ConfigError, DEFAULT_CONFIG, generateConfigYaml } from '../shared/diagnosis/config';
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
      if (s.configPath) await this.warnIgnored(s.configPath, loaded, generation);
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
        // The whole value (up to a comment or the end of the line), not one character of it.
        const text = await readConfigText(e.file).catch(() => '');
        if (generation !== this.generation) return e.message; // a newer reload owns the Problems panel
        const d = new vscode.Diagnostic(
          new vscode.Range(line, col, line, valueEnd(text.split('\n')[line] ?? '', col)),
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

  /** One error notification per distinct error (an error, with the way to the spot); once the config loads
   *  again a short message says so. */
  private showError(text: string, e: ConfigError): void {
    if (text === this.shownError) return;
    this.shownError = text;
    const open = e.file?.startsWith('setting ') ? 'Open Settings' : 'Open Config';
    void vscode.window.showErrorMessage(text, open).then((c) => {
      if (c) void this.open(e);
    });
  }

  private clearError(): void {
    if (this.shownError)
      vscode.window.setStatusBarMessage(
        '$(check) Hotspot: the config loads again; its thresholds apply',
        5000,
      );
    this.shownError = '';
  }

  /** Keys the active profile does not read (e.g. `oom.rss_mb`, a reference key, under the default profile):
   *  a warning at the key, since they change nothing. */
  private async warnIgnored(file: string, c: Config, generation: number): Promise<void> {
    let text: string;
    try {
      text = await readConfigText(file);
    } catch {
      return;
    }
    // A save that came meanwhile (a broken value) has its own reload: these warnings must not replace its error.
    if (generation !== this.generation) return;
    const found = ignoredKeyWarnings(text, c.profile);
    if (!found.length) return;
    this.problems.set(
      vscode.Uri.file(file),
      found.map((w) => {
        const d = new vscode.Diagnostic(
          new vscode.Range(w.line, w.column, w.line, w.endColumn),
          w.message,
          vscode.DiagnosticSeverity.Warning,
        );
        d.source = 'Hotspot';
        return d;
      }),
    );
    this.log.warn(`${file}: ${found.map((w) => w.key).join(', ')} ignored under profile ${c.profile}`);
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

  /** Writes the commented defaults to .vscode/hotspot.yaml, points hotspot.configPath at it, and says both
   *  (with Undo, which puts the setting back and removes a file it created). */
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
    const created = !existsSync(file);
    if (created) {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, generateConfigYaml());
    }
    const cfg = vscode.workspace.getConfiguration('hotspot');
    const before = cfg.inspect<string>('configPath')?.workspaceValue;
    await cfg.update('configPath', WORKSPACE_CONFIG, vscode.ConfigurationTarget.Workspace);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(file));
    const rel = path.relative(folder.uri.fsPath, file);
    const was = before ? ` (was ${before})` : '';
    const c = await vscode.window.showInformationMessage(
      created
        ? `Hotspot: wrote every threshold with its default to ${rel} and set hotspot.configPath to it in this workspace's settings${was}.`
        : `Hotspot: ${rel} already existed and was left as it is; hotspot.configPath now points at it in this workspace's settings${was}.`,
      'Open',
      'Undo',
    );
    if (c === 'Open') await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(file));
    else if (c === 'Undo') {
      await cfg.update('configPath', before, vscode.ConfigurationTarget.Workspace);
      if (created) rmSync(file, { force: true });
      vscode.window.setStatusBarMessage(
        `Hotspot: hotspot.configPath is ${before ? `back to ${before}` : 'unset again'}${created ? `, ${rel} removed` : ''}`,
        5000,
      );
    }
  }

  dispose(): void {
    clearTimeout(this.debounce);
    this.clearError();
    this.watcher?.dispose();
    this.saveListener.dispose();
    this.problems.dispose();
  }
}
