// Flags of `hotspot profile`. Pure: parsed and unit-tested without touching the machine.

import { FORMATS, type Format } from '../shared/profile/formats';
import { DEFAULT_DURATION_MS, DEFAULT_FREQUENCY, PROFILE_LIMITS } from '../shared/wire/profile';
import { UsageError } from './args';

export interface ProfileOptions {
  pid: number;
  durationMs: number;
  frequency: number;
  format: Format;
  output?: string;
  force: boolean;
  /** Rows of the `top` table. */
  top: number;
  help: boolean;
}

export const PROFILE_USAGE = `Usage: hotspot profile --pid <pid> [--duration 10s] [--frequency 99] [--format top|folded|pprof|cpuprofile|speedscope] [--output FILE] [--force]

Samples where a process of yours spends its CPU (every thread, user and kernel stacks), then names the frames.

  --pid <pid>          the process (yours; root may profile any)
  --duration <dur>     how long to sample, 1s..60s (default 10s); Ctrl-C ends it early and keeps what was sampled
  --frequency <hz>     samples per second per CPU, 1..999 (default 99)
  --format <f>         top (default): hot functions, self and total %; folded: flamegraph.pl collapsed stacks;
                       pprof: go tool pprof / Pyroscope / Parca; cpuprofile: VS Code's profile viewer; speedscope
  --output <file>      write there instead of stdout (required for pprof); an existing file is kept unless --force
  --top <n>            rows of the top table (default 25)

JIT runtimes need a perf map to name their frames: node --perf-basic-prof-only-functions
--interpreted-frames-native-stack; Python 3.12+ with PYTHONPERFSUPPORT=1.`;

function seconds(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text.trim());
  if (!m) throw new UsageError(`${flag}: "${text}" is not a duration (try 10s or 2500ms)`);
  const ms = Math.round(Number(m[1]) * (m[2] === 'ms' ? 1 : 1000));
  if (ms < PROFILE_LIMITS.minDurationMs || ms > PROFILE_LIMITS.maxDurationMs)
    throw new UsageError(`${flag}: must be between 1s and 60s`);
  return ms;
}

function integer(flag: string, text: string, min: number, max: number): number {
  if (!/^\d{1,9}$/.test(text) || Number(text) < min || Number(text) > max)
    throw new UsageError(`${flag}: expected an integer in ${min}..${max}, got "${text.slice(0, 32)}"`);
  return Number(text);
}

export function parseProfileArgs(argv: readonly string[]): ProfileOptions {
  const o: Partial<ProfileOptions> & { force: boolean; help: boolean } = { force: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i];
    const eq = raw.indexOf('=');
    const flag = raw.startsWith('--') && eq > 0 ? raw.slice(0, eq) : raw;
    const inline = raw.startsWith('--') && eq > 0 ? raw.slice(eq + 1) : undefined;
    if (flag === '--help' || flag === '-h') {
      o.help = true;
      continue;
    }
    if (flag === '--force') {
      o.force = true;
      continue;
    }
    if (!['--pid', '--duration', '--frequency', '--format', '--output', '--top'].includes(flag))
      throw new UsageError(
        `unknown flag ${JSON.stringify(raw).slice(0, 40)} for hotspot profile (see --help)`,
      );
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`${flag}: needs a value`);
    switch (flag) {
      case '--pid':
        o.pid = integer(flag, value, 1, 4_194_304);
        break;
      case '--duration':
        o.durationMs = seconds(flag, value);
        break;
      case '--frequency':
        o.frequency = integer(flag, value, PROFILE_LIMITS.minFrequency, PROFILE_LIMITS.maxFrequency);
        break;
      case '--format':
        if (!FORMATS.includes(value as Format))
          throw new UsageError(
            `--format: expected one of ${FORMATS.join(', ')}, got "${value.slice(0, 32)}"`,
          );
        o.format = value as Format;
        break;
      case '--output':
        if (value === '') throw new UsageError('--output: needs a file name');
        o.output = value;
        break;
      case '--top':
        o.top = integer(flag, value, 1, 10_000);
        break;
      default:
        throw new UsageError(
          `unknown flag ${JSON.stringify(raw).slice(0, 40)} for hotspot profile (see --help)`,
        );
    }
  }
  if (o.help)
    return { pid: 0, durationMs: 0, frequency: 0, format: 'top', force: false, top: 25, help: true };
  if (o.pid === undefined) throw new UsageError('hotspot profile needs --pid <pid>');
  const format = o.format ?? 'top';
  if (format === 'pprof' && o.output === undefined)
    throw new UsageError('--format pprof is binary: give --output FILE');
  return {
    pid: o.pid,
    durationMs: o.durationMs ?? DEFAULT_DURATION_MS,
    frequency: o.frequency ?? DEFAULT_FREQUENCY,
    format,
    output: o.output,
    force: o.force,
    top: o.top ?? 25,
    help: false,
  };
}
