// Reading a thresholds file (CLI --config, extension hotspot.configPath) without trusting what the path names.
// A FIFO would block the reader forever (in the extension host that freezes every extension), /dev/zero never
// ends, a huge file costs seconds and hundreds of MiB to parse: only a regular file of at most 1 MiB is read, and
// asynchronously. Every failure is a ConfigError naming the file, so callers keep their previous config.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { type Config, ConfigError, MAX_CONFIG_BYTES, parseConfig } from '../shared/diagnosis/config';
import { formatBytes } from '../shared/format';

/** The text of a config file: a regular file, ≤ MAX_CONFIG_BYTES, valid UTF-8. */
export async function readConfigText(file: string): Promise<string> {
  const fail = (detail: string): never => {
    throw new ConfigError('', detail, file);
  };
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    // O_NONBLOCK: opening a FIFO for reading must not wait for a writer. It changes nothing for a regular file.
    fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    return fail(`cannot read the file (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile())
      fail(
        `not a regular file (${st.isDirectory() ? 'a directory' : 'a FIFO, socket or device'}); name a YAML file`,
      );
    if (st.size > MAX_CONFIG_BYTES)
      fail(
        `the file is ${formatBytes(st.size)}; a config file may be at most ${formatBytes(MAX_CONFIG_BYTES)}`,
      );
    // Read one byte past the limit: a file that grows after the stat is caught too.
    const buf = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > MAX_CONFIG_BYTES) fail(`the file grew past ${formatBytes(MAX_CONFIG_BYTES)} while being read`);
    }
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(0, n));
    } catch {
      return fail('not UTF-8 text');
    }
  } finally {
    await fh.close();
  }
}

/** Reads and parses a config file; throws ConfigError (file:line:col key: what) on any problem. */
export async function loadConfigFile(file: string): Promise<Config> {
  return parseConfig(await readConfigText(file), file);
}
