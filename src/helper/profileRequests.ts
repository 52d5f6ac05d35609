// Profile requests on the helper's stdin: one JSON line each (src/shared/profile/wire.ts), answered by a `profile`
// message or an `error` carrying the request's id. Only a process the requesting user owns may be profiled: the
// requester is the pkexec caller (PKEXEC_UID, set by pkexec itself) or, run directly, the user of the process that
// started the helper; root may profile anything. One profile runs at a time.
import { readFileSync } from 'node:fs';
import { parseRequest, type Request, RequestError } from '../shared/wire/profile';
import { type ErrorCode, type Message, PROTOCOL_VERSION } from '../shared/wire/protocol';
import { LoadError } from './loader';
import { type ProfileEnv, ProfileError, type RunningProfile, startProfile } from './profile';

/** Real, effective and saved uid of a process (the first three of /proc/<pid>/status's Uid line). */
export function uidsOf(pid: number): number[] | undefined {
  try {
    const m = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Who is asking, decided once at start-up: PKEXEC_UID when pkexec started the helper (pkexec sets it and clears the
 * rest of the environment, so a caller cannot forge it through pkexec), else the real uid of the parent process.
 */
export function requesterUid(env: NodeJS.ProcessEnv, ppid: number): number | undefined {
  const fromPkexec = env.PKEXEC_UID;
  if (fromPkexec !== undefined) return /^\d{1,10}$/.test(fromPkexec) ? Number(fromPkexec) : undefined;
  return uidsOf(ppid)?.[0];
}

export interface ProfileService {
  onLine(line: string): void;
  /** Detaches a running profile (the helper is exiting). */
  close(): void;
}

export function profileService(
  opts: ProfileEnv & {
    send: (m: Message) => void;
    requester: number | undefined;
  },
): ProfileService {
  let running: RunningProfile | undefined;
  const refuse = (id: string | undefined, message: string, hint?: string, code: ErrorCode = 'PROFILE') => {
    opts.log(`profile request refused: ${message}`);
    opts.send({
      type: 'error',
      v: PROTOCOL_VERSION,
      code,
      message,
      hint,
      fatal: false,
      ...(id ? { id } : {}),
    });
  };
  const handle = (r: Request) => {
    if (r.type === 'cancel') {
      if (running?.id === r.id) running.cancel();
      return;
    }
    if (running) return refuse(r.id, 'a profile is already running', 'Wait for it to end, or cancel it.');
    const owner = uidsOf(r.pid);
    if (!owner) return refuse(r.id, `no process ${r.pid}`, 'Check the pid: the process may have exited.');
    if (opts.requester === undefined)
      return refuse(r.id, 'the helper could not tell which user is asking, so it profiles nothing');
    if (opts.requester !== 0 && !owner.every((u) => u === opts.requester))
      return refuse(
        r.id,
        `process ${r.pid} belongs to user ${owner[0]}, not to you (user ${opts.requester})`,
        'Hotspot profiles only your own processes (root may profile any).',
      );
    try {
      running = startProfile(r, opts, (result) => {
        running = undefined;
        opts.log(`profile ${r.id} of ${r.pid}: ${result.samples} samples, ended by ${result.ended}`);
        opts.send(result);
      });
      opts.log(
        `profiling ${r.pid} for ${r.durationMs} ms at ${r.frequency} Hz on ${running.events} (request ${r.id})`,
      );
    } catch (e) {
      running = undefined;
      if (e instanceof ProfileError) return refuse(r.id, e.message, e.hint);
      if (e instanceof LoadError) {
        opts.log(e.log.join('\n'));
        return refuse(
          r.id,
          `the profiler could not be loaded: ${e.message}`,
          'This kernel may lack perf-event BPF programs or stack maps; see the Hotspot log.',
        );
      }
      return refuse(r.id, `the profile failed: ${(e as Error).message}`);
    }
  };
  return {
    onLine(line) {
      let r: Request;
      try {
        r = parseRequest(line);
      } catch (e) {
        if (e instanceof RequestError)
          return refuse(e.id, `bad request: ${e.message}`, undefined, 'BAD_ARGS');
        throw e;
      }
      handle(r);
    },
    close() {
      running?.abort();
      running = undefined;
    },
  };
}
