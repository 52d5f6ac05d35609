// Recording files (JSONL of protocol messages): how they are opened for writing and read for replay, shared by
// the CLI and the extension. Not pure (file I/O); kept small so both front ends apply the same rules.
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';

/** A recording larger than this is refused rather than read into memory (hours of 1 s windows fit easily). */
export const MAX_RECORDING_BYTES = 256 * 2 ** 20;

/**
 * Opens a recording for writing: mode 0600, never through a symlink (a link planted where root records would let
 * anyone who can write that directory overwrite a file of root's). `replace: false` also refuses an existing file
 * (the CLI); the extension passes true after its save dialog asked the user. Returns the fd.
 */
export function openRecordingFd(file: string, replace: boolean): number {
  const flags =
    constants.O_WRONLY |
    constants.O_CREAT |
    constants.O_NOFOLLOW |
    (replace ? constants.O_TRUNC : constants.O_EXCL);
  try {
    return openSync(file, flags, 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'EEXIST' || code === 'ELOOP'
        ? `${file} already exists (or is a symlink); choose a new file name`
        : `cannot create ${file}: ${code ?? e}`,
    );
  }
}

function check(file: string, size: number, isFile: boolean): void {
  if (!isFile) throw new Error(`${file} is not a regular file`);
  if (size > MAX_RECORDING_BYTES)
    throw new Error(`${file} is ${size} bytes, over the ${MAX_RECORDING_BYTES} byte limit for a recording`);
}

/** Reads a recording (regular files only, bounded: a FIFO or /dev/zero must not hang or exhaust the reader). */
export function readRecordingSync(file: string): string {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    check(file, st.size, st.isFile());
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** The same, without blocking the caller's event loop (the extension host is shared by every extension). */
export async function readRecording(file: string): Promise<string> {
  const h = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = await h.stat();
    check(file, st.size, st.isFile());
    return await h.readFile('utf8');
  } finally {
    await h.close();
  }
}
