// Renamed settings. VS Code titles a setting from its key ("hotspot.intervalMs" showed as "Interval Ms", "topK" as
// "Top K"), so the keys were renamed to ones whose titles read well. People's settings.json files still carry the old
// keys: those stay declared (deprecated, pointing at the new key) and are read whenever the new key is set nowhere.
// No `vscode` import: the lookup takes anything with inspect(), so it is tested without VS Code.

/** The part of vscode.WorkspaceConfiguration the lookup needs. */
export interface Inspectable {
  inspect<T>(key: string):
    | {
        globalValue?: T;
        workspaceValue?: T;
        workspaceFolderValue?: T;
        defaultValue?: T;
      }
    | undefined;
}

/** New key → the key it replaces (both relative to the `hotspot` section). */
export const RENAMED = {
  measurementWindow: 'intervalMs',
  processesPerDiagnosis: 'topK',
  dashboardHistory: 'historyWindows',
} as const;

export type RenamedKey = keyof typeof RENAMED;

/** The value someone set for `key`, the most specific level first; undefined when only the default applies. */
export function explicitValue<T>(c: Inspectable, key: string): T | undefined {
  const i = c.inspect<T>(key);
  return i?.workspaceFolderValue ?? i?.workspaceValue ?? i?.globalValue;
}

/**
 * A renamed setting's value: the new key wherever it is set (folder, workspace or user); else the old key wherever
 * that is set; else `fallback` (the new key's default).
 */
export function renamedSetting<T>(c: Inspectable, key: RenamedKey, fallback: T): T {
  return explicitValue<T>(c, key) ?? explicitValue<T>(c, RENAMED[key]) ?? fallback;
}
