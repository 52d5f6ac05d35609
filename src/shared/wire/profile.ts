// The on-demand CPU profile over the helper's channel: requests on its stdin, one `profile` message on its stdout.
// Pure (no I/O): the helper validates requests with it, the CLI and the extension validate results with it.
// The helper runs as root, so a request is checked strictly: known keys only, integers within fixed bounds, and
// nothing from it is ever used as an object key.
import { plainText } from '../format';

/** Version of the request format; a request of another version is refused with a message saying so. */
export const REQUEST_VERSION = 1;
export const PROFILE_LIMITS = {
  minDurationMs: 1000,
  maxDurationMs: 60_000,
  minFrequency: 1,
  maxFrequency: 999,
  /** Longest request line the helper reads (anything longer is refused unparsed). */
  maxLineBytes: 1024,
} as const;
export const DEFAULT_FREQUENCY = 99;
export const DEFAULT_DURATION_MS = 10_000;

export interface ProfileRequest {
  v: 1;
  type: 'profile';
  /** Chosen by the requester, echoed in the answer: 1-64 of [A-Za-z0-9_-]. */
  id: string;
  pid: number;
  durationMs: number;
  frequency: number;
}

/** Stops a running profile early; its samples so far are sent as the answer. */
export interface CancelRequest {
  v: 1;
  type: 'cancel';
  id: string;
}

export type Request = ProfileRequest | CancelRequest;

export class RequestError extends Error {
  override name = 'RequestError';
  constructor(
    message: string,
    /** The request's id when it could be read, so the refusal reaches whoever asked. */
    readonly id?: string,
  ) {
    super(message);
  }
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const KEYS: Record<Request['type'], readonly string[]> = {
  profile: ['v', 'type', 'id', 'pid', 'durationMs', 'frequency'],
  cancel: ['v', 'type', 'id'],
};

function int(o: Record<string, unknown>, k: string, min: number, max: number, id: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new RequestError(`${k} must be an integer in ${min}..${max}`, id);
  return v;
}

/** One request line from the helper's stdin. Throws RequestError naming what is wrong. */
export function parseRequest(line: string): Request {
  if (line.length > PROFILE_LIMITS.maxLineBytes)
    throw new RequestError(`request longer than ${PROFILE_LIMITS.maxLineBytes} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new RequestError('request is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new RequestError('request must be a JSON object');
  // Own keys only: JSON.parse makes "__proto__" an own property, which the key check below then refuses.
  const o = value as Record<string, unknown>;
  const id = typeof o.id === 'string' && ID.test(o.id) ? o.id : undefined;
  if (o.v !== REQUEST_VERSION)
    throw new RequestError(`request version must be ${REQUEST_VERSION} (this helper's)`, id);
  if (o.type !== 'profile' && o.type !== 'cancel')
    throw new RequestError('request type must be "profile" or "cancel"', id);
  const allowed = KEYS[o.type];
  for (const k of Object.keys(o))
    if (!allowed.includes(k))
      throw new RequestError(`unknown key ${JSON.stringify(k).slice(0, 40)} in a ${o.type} request`, id);
  if (id === undefined) throw new RequestError('id must be 1-64 letters, digits, _ or -');
  if (o.type === 'cancel') return { v: 1, type: 'cancel', id };
  return {
    v: 1,
    type: 'profile',
    id,
    pid: int(o, 'pid', 1, 4_194_304, id),
    durationMs: int(o, 'durationMs', PROFILE_LIMITS.minDurationMs, PROFILE_LIMITS.maxDurationMs, id),
    frequency: int(o, 'frequency', PROFILE_LIMITS.minFrequency, PROFILE_LIMITS.maxFrequency, id),
  };
}

export function encodeRequest(r: Request): string {
  return `${JSON.stringify(r)}\n`;
}

/** One sampled stack of one thread, leaf first, and how many samples had it. */
export interface ProfileStack {
  tid: number;
  /** User-space return addresses, leaf first (symbolized by the unprivileged side); [] when none was taken. */
  user: number[];
  /** Kernel frames named by the helper from /proc/kallsyms, leaf first; raw kernel addresses never leave it. */
  kernel: string[];
  count: number;
}

export interface ProfileThread {
  tid: number;
  comm: string;
  samples: number;
}

export interface ProfileResult {
  type: 'profile';
  v: number;
  id: string;
  pid: number;
  frequency: number;
  /** When sampling started (ms since the epoch) and how long it ran (less than asked if it ended early). */
  startedAt: number;
  durationMs: number;
  /** Samples counted, including those of stacks left out below. */
  samples: number;
  /** Samples the kernel could not record (a full map, a stack lost to a hash collision). */
  lost: number;
  /** Samples of stacks left out because the message would have been too large. */
  omitted: number;
  /** Why sampling ended: the duration passed, a cancel, or the process exited (a partial profile). */
  ended: 'duration' | 'cancelled' | 'exited';
  /** Whether the helper could name kernel frames (kallsyms readable with real addresses). */
  kernelSymbols: boolean;
  threads: ProfileThread[];
  stacks: ProfileStack[];
}

const ENDED: readonly ProfileResult['ended'][] = ['duration', 'cancelled', 'exited'];
type Obj = Record<string, unknown>;

function field(o: Obj, k: string, path: string, min = 0): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min)
    throw new Error(`${path}.${k}: expected a number ≥ ${min}`);
  return v;
}
function record(v: unknown, path: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${path}: expected an object`);
  return v as Obj;
}
function list(o: Obj, k: string, path: string): unknown[] {
  const v = o[k];
  if (!Array.isArray(v)) throw new Error(`${path}.${k}: expected an array`);
  return v;
}

/** Validates a decoded `profile` message (called by the protocol's validateMessage). Throws Error naming the field. */
export function validateProfile(o: Obj, version: number): ProfileResult {
  const p = 'profile';
  const id = o.id;
  if (typeof id !== 'string' || !ID.test(id)) throw new Error(`${p}.id: expected a request id`);
  if (!ENDED.includes(o.ended as ProfileResult['ended'])) throw new Error(`${p}.ended: unknown`);
  if (typeof o.kernelSymbols !== 'boolean') throw new Error(`${p}.kernelSymbols: expected a boolean`);
  return {
    type: 'profile',
    v: version,
    id,
    pid: field(o, 'pid', p, 1),
    frequency: field(o, 'frequency', p, 1),
    startedAt: field(o, 'startedAt', p),
    durationMs: field(o, 'durationMs', p),
    samples: field(o, 'samples', p),
    lost: field(o, 'lost', p),
    omitted: field(o, 'omitted', p),
    ended: o.ended as ProfileResult['ended'],
    kernelSymbols: o.kernelSymbols,
    threads: list(o, 'threads', p).map((t, i) => {
      const r = record(t, `${p}.threads[${i}]`);
      const comm = r.comm;
      if (typeof comm !== 'string' || comm.length > 64)
        throw new Error(`${p}.threads[${i}].comm: expected a name`);
      return {
        tid: field(r, 'tid', `${p}.threads[${i}]`, 1),
        comm: plainText(comm),
        samples: field(r, 'samples', `${p}.threads[${i}]`),
      };
    }),
    stacks: list(o, 'stacks', p).map((s, i) => {
      const path = `${p}.stacks[${i}]`;
      const r = record(s, path);
      const user = list(r, 'user', path);
      const kernel = list(r, 'kernel', path);
      if (user.length > 256 || kernel.length > 256) throw new Error(`${path}: too many frames`);
      return {
        tid: field(r, 'tid', path, 1),
        count: field(r, 'count', path, 1),
        user: user.map((a, j) => {
          if (typeof a !== 'number' || !Number.isSafeInteger(a) || a < 0)
            throw new Error(`${path}.user[${j}]: expected an address`);
          return a;
        }),
        kernel: kernel.map((n, j) => {
          if (typeof n !== 'string' || n.length > 256)
            throw new Error(`${path}.kernel[${j}]: expected a name`);
          return plainText(n);
        }),
      };
    }),
  };
}
