// `hotspot profile`: asks the helper for a CPU profile of one process over its request channel, names the frames
// as the user (src/host/profile), and prints or writes it in the chosen format. Every failure says what and what
// to do, exits non-zero, and stops the helper (which detaches the profiler on every exit path).
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ProcessImage } from '../host/profile/image';
import { symbolize } from '../host/profile/symbolize';
import { HelperSupervisor, type Logger } from '../host/supervisor';
import { plainText } from '../shared/format';
import { cpuprofile, folded, pprof, speedscope } from '../shared/profile/formats';
import { hottest, type SymbolizedProfile } from '../shared/profile/model';
import { encodeRequest, type ProfileResult } from '../shared/wire/profile';
import type { HelperError } from '../shared/wire/protocol';
import { UsageError } from './args';
import { PROFILE_USAGE, type ProfileOptions, parseProfileArgs } from './profileArgs';
import { header, renderTop } from './profileRender';

const say = (m: string, hint?: string) =>
  process.stderr.write(`hotspot: ${plainText(m)}${hint ? `\n  ${plainText(hint)}` : ''}\n`);

class ProfileFailure extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    readonly code = 1,
  ) {
    super(message);
  }
}

/** Refuses early what the helper would refuse, with the same words, before anything is started. */
function checkTarget(pid: number): void {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    throw new ProfileFailure(`no process ${pid}`, 'Check the pid: the process may have exited.');
  }
  const uid = process.getuid?.() ?? 0;
  const owner = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(status);
  if (uid !== 0 && owner && ![owner[1], owner[2], owner[3]].every((u) => Number(u) === uid))
    throw new ProfileFailure(
      `process ${pid} belongs to user ${owner[1]}, not to you (user ${uid})`,
      'Hotspot profiles only your own processes (root may profile any).',
    );
}

/** A new file (never through a symlink, never over an existing file unless --force). */
function openOutput(file: string, force: boolean): number {
  try {
    return openSync(file, force ? 'w' : 'wx', 0o644);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST')
      throw new ProfileFailure(`${file} exists`, 'Choose another --output, or add --force to replace it.', 2);
    throw new ProfileFailure(`cannot write ${file}: ${(e as Error).message}`);
  }
}

function render(p: SymbolizedProfile, o: ProfileOptions): string | Uint8Array {
  switch (o.format) {
    case 'folded':
      return folded(p);
    case 'pprof':
      return pprof(p);
    case 'cpuprofile':
      return cpuprofile(p);
    case 'speedscope':
      return speedscope(p);
    default:
      return renderTop(p, o.top);
  }
}

/** Runs one profile through the helper and resolves with its raw result. */
function sample(o: ProfileOptions, image: ProcessImage): Promise<ProfileResult> {
  const log: Logger = { info: () => {}, debug: () => {}, warn: (m) => say(m), error: () => {} };
  const sup = new HelperSupervisor({
    // Windows are not needed here: the longest interval keeps the helper's own work to its start.
    helperArgs: ['--interval-ms', '600000'],
    devHelperPath: path.join(__dirname, 'helper.js'),
    log,
  });
  const id = `cli-${process.pid}`;
  return new Promise<ProfileResult>((resolve, reject) => {
    let snap: NodeJS.Timeout | undefined;
    let settled = false;
    const end = (f: () => void) => {
      if (settled) return;
      settled = true;
      clearInterval(snap);
      process.removeListener('SIGINT', cancel);
      process.removeListener('SIGTERM', cancel);
      void sup.stop().then(f);
    };
    const cancel = () => {
      if (!sup.request(encodeRequest({ v: 1, type: 'cancel', id })))
        end(() => reject(new ProfileFailure('cancelled before the profile started', undefined, 130)));
    };
    process.on('SIGINT', cancel);
    process.on('SIGTERM', cancel);
    sup.on('hello', () => {
      if (
        !sup.request(
          encodeRequest({
            v: 1,
            type: 'profile',
            id,
            pid: o.pid,
            durationMs: o.durationMs,
            frequency: o.frequency,
          }),
        )
      )
        return end(() => reject(new ProfileFailure('the helper stopped before the request could be sent')));
      say(
        `profiling ${image.comm || 'process'} (${o.pid}) for ${o.durationMs / 1000} s at ${o.frequency} Hz…`,
      );
      // The maps are read during the profile too: code loaded (and a process that exits) mid-profile still resolves.
      snap = setInterval(() => image.snapshot(), 500);
    });
    sup.on('profile', (r: ProfileResult) => {
      if (r.id === id) end(() => resolve(r));
    });
    sup.on('requestError', (e: HelperError) => {
      if (e.id === id) end(() => reject(new ProfileFailure(e.message, e.hint)));
    });
    sup.on('failure', (f: { message: string; hint: string; fatal: boolean }) => {
      if (f.fatal) end(() => reject(new ProfileFailure(f.message, f.hint)));
      else say(f.message, f.hint);
    });
    sup.on('state', (s: string) => {
      if (s === 'failed' || s === 'stopped')
        end(() =>
          reject(
            new ProfileFailure('the helper stopped before the profile was done', 'See the messages above.'),
          ),
        );
    });
    sup.start();
  });
}

export async function runProfile(argv: readonly string[]): Promise<number> {
  let o: ProfileOptions;
  try {
    o = parseProfileArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    say(e.message);
    return 2;
  }
  if (o.help) {
    process.stdout.write(`${PROFILE_USAGE}\n`);
    return 0;
  }
  let out: number | undefined;
  try {
    checkTarget(o.pid);
    if (o.output) out = openOutput(o.output, o.force);
    const image = new ProcessImage(o.pid);
    const raw = await sample(o, image);
    const p = await symbolize(raw, image);
    const data = render(p, o);
    if (out !== undefined) {
      writeFileSync(out, data);
      closeSync(out);
      out = undefined;
      const top = hottest(p);
      say(`${header(p)}; wrote ${o.output}${top ? `; hottest: ${top.name} ${Math.round(top.share)} %` : ''}`);
    } else process.stdout.write(data);
    for (const n of p.notes) say(n);
    return raw.ended === 'exited' ? 3 : 0;
  } catch (e) {
    if (!(e instanceof ProfileFailure)) throw e;
    say(e.message, e.hint);
    return e.code;
  } finally {
    if (out !== undefined) closeSync(out);
  }
}
