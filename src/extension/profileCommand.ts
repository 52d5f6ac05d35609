// "Profile CPU…" on a process row: asks the running helper for a profile of that process (a duration from a quick
// pick, a progress notification whose Cancel ends it early and keeps what was sampled), names the frames as the
// user, and opens the profile view. Also the hotspot.profiling.symbolizeJit setting, which adds the perf-map flags
// to new integrated terminals, and the record of recent profiles the diagnosis cites.
import * as vscode from 'vscode';
import { ProcessImage } from '../host/profile/image';
import { SymbolCache, symbolize } from '../host/profile/symbolize';
import type { HelperSupervisor } from '../host/supervisor';
import type { RecentProfile } from '../shared/profile/hint';
import { hottest } from '../shared/profile/model';
import { encodeRequest, type ProfileResult } from '../shared/wire/profile';
import type { HelperError } from '../shared/wire/protocol';
import { showProfile } from './profileView';

/** What the diagnosis of a CPU-bound process cites: its hottest function when profiled in the last minute. */
export const recentProfiles = new Map<number, RecentProfile>();

export const JIT_NODE_OPTIONS = '--perf-basic-prof-only-functions --interpreted-frames-native-stack';
const DURATIONS = [
  { label: '5 seconds', ms: 5_000 },
  { label: '10 seconds', ms: 10_000, picked: true },
  { label: '30 seconds', ms: 30_000 },
  { label: '60 seconds', ms: 60_000 },
];

/** Adds or removes the perf-map flags for terminals opened from now on (existing ones keep their environment). */
export function applyJitSetting(ctx: vscode.ExtensionContext): void {
  const env = ctx.environmentVariableCollection;
  const on = vscode.workspace.getConfiguration('hotspot').get<boolean>('profiling.symbolizeJit', false);
  env.description = 'Hotspot: perf maps for profiling JIT code (hotspot.profiling.symbolizeJit)';
  if (on) {
    env.append('NODE_OPTIONS', ` ${JIT_NODE_OPTIONS}`);
    env.replace('PYTHONPERFSUPPORT', '1');
  } else env.clear();
}

let seq = 0;

export function registerProfileCommand(
  ctx: vscode.ExtensionContext,
  helper: () => HelperSupervisor | undefined,
  log: vscode.LogOutputChannel,
): void {
  const cache = new SymbolCache();
  applyJitSetting(ctx);
  ctx.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('hotspot.profiling.symbolizeJit')) applyJitSetting(ctx);
    }),
    vscode.commands.registerCommand(
      'hotspot.profileProcess',
      async (node?: { kind?: string; d?: { tgid: number; comm: string } }, durationMs?: number) => {
        const tgid = node?.kind === 'process' ? node.d?.tgid : undefined;
        if (!tgid)
          return void vscode.window.showInformationMessage('Hotspot: choose Profile CPU… on a process row.');
        const sup = helper();
        if (!sup)
          return void vscode.window.showWarningMessage(
            'Hotspot: profiling needs the eBPF helper. Start Hotspot (it is not running, or runs from /proc without it).',
          );
        let ms = durationMs;
        if (ms === undefined) {
          const pick = await vscode.window.showQuickPick(
            DURATIONS.map((d) => ({ label: d.label, ms: d.ms, picked: d.picked })),
            {
              title: `Profile CPU of ${node?.d?.comm} (${tgid})`,
              placeHolder: 'How long to sample (99 Hz, every thread)',
            },
          );
          if (!pick) return;
          ms = pick.ms;
        }
        let image: ProcessImage;
        try {
          image = new ProcessImage(tgid);
        } catch {
          return void vscode.window.showWarningMessage(`Hotspot: process ${tgid} has exited.`);
        }
        const id = `vs${process.pid}-${++seq}`;
        const title = `CPU profile: ${node?.d?.comm} (${tgid})`;
        const raw = await vscode.window.withProgress(
          {
            location: vscode.ProgressLocation.Notification,
            title: `Profiling ${node?.d?.comm} (${tgid})`,
            cancellable: true,
          },
          (progress, token) =>
            new Promise<ProfileResult | undefined>((resolve) => {
              const snap = setInterval(() => image.snapshot(), 500);
              const started = Date.now();
              const tick = setInterval(() => {
                const left = Math.max(0, Math.ceil((ms! - (Date.now() - started)) / 1000));
                progress.report({ message: `${left} s left` });
              }, 1000);
              const done = (r: ProfileResult | undefined) => {
                clearInterval(snap);
                clearInterval(tick);
                sup.off('profile', onProfile);
                sup.off('requestError', onError);
                resolve(r);
              };
              const onProfile = (r: ProfileResult) => r.id === id && done(r);
              const onError = (e: HelperError) => {
                if (e.id !== id) return;
                void vscode.window.showErrorMessage(
                  `Hotspot could not profile ${tgid}: ${e.message}${e.hint ? ` ${e.hint}` : ''}`,
                );
                done(undefined);
              };
              sup.on('profile', onProfile);
              sup.on('requestError', onError);
              token.onCancellationRequested(() => sup.request(encodeRequest({ v: 1, type: 'cancel', id })));
              if (
                !sup.request(
                  encodeRequest({ v: 1, type: 'profile', id, pid: tgid, durationMs: ms!, frequency: 99 }),
                )
              ) {
                void vscode.window.showWarningMessage(
                  'Hotspot: the helper is not running; start Hotspot and try again.',
                );
                done(undefined);
              }
            }),
        );
        if (!raw) return;
        const t0 = Date.now();
        const p = await symbolize(raw, image, cache);
        log.info(
          `profile of ${tgid}: ${raw.samples} samples, ended by ${raw.ended}, symbolized in ${Date.now() - t0} ms`,
        );
        const top = hottest(p);
        if (top) recentProfiles.set(tgid, { hottest: top.name, share: top.share, at: Date.now() });
        showProfile(ctx.extensionUri, p, title);
      },
    ),
  );
}
