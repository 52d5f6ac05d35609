// Command-line flags of `hotspot`, after the reference tool's (-interval, -topk, -hide-kernel, -cgroup-filter,
// -exclude, -config, -generate-config), plus --json, --windows, --pid, --record and --replay.
// Pure: parseArgs never touches the file system, so it is unit-tested directly.
import { excludeList } from '../shared/presentation/viewFilters';

export interface CliOptions {
  /** A subcommand instead of a live session: install-helper (run with sudo). */
  command?: 'install-helper';
  installDir?: string;
  policyDir?: string;
  intervalMs: number;
  topK: number;
  hideKernel: boolean;
  cgroupFilter: string;
  exclude: string[];
  configPath?: string;
  generateConfig: boolean;
  json: boolean;
  windows?: number;
  pids: number[];
  record?: string;
  replay?: string;
  help: boolean;
  version: boolean;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = `Usage: hotspot [flags]
       sudo node <extension>/dist/cli.js install-helper [--install-dir <dir>] [--policy-dir <dir>]
       hotspot serve [flags]   (Prometheus /metrics and OTLP; hotspot serve --help)

Live diagnosis of why processes are slow, starved or heading for OOM (eBPF; needs root).

  --interval <dur>       sampling window, e.g. 5s, 500ms, 1m (default 5s)
  --topk <n>             rows per diagnosis in the table (default 5)
  --hide-kernel [bool]   hide kernel threads (default true; --hide-kernel false shows them)
  --cgroup-filter <s>    only processes whose cgroup contains <s>
  --exclude <a,b,123>    hide processes by comm or pid (adds to the config's exclude list)
  --config <file.yaml>   thresholds (see --generate-config)
  --generate-config      print the default config, commented, and exit
  --json                 one JSON line per window with every process's diagnosis
  --windows <n>          stop after n windows
  --pid <pid[,pid]>      only these processes (and their descendants)
  --record <file.jsonl>  also save the raw helper stream, for --replay and test fixtures
  --replay <file.jsonl>  diagnose a recorded session instead of the live kernel (no root needed)
  --version, --help

install-helper copies the privileged helper from this extension into a root-owned directory (default
/usr/local/lib/hotspot) with its polkit policy, after checking every file against the manifest built at packaging.`;

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m)?$/;

export function parseDuration(text: string): number {
  const m = DURATION.exec(text.trim());
  if (!m) throw new UsageError(`--interval: "${text}" is not a duration (try 5s, 500ms or 1m)`);
  const ms = Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000);
  if (ms < 100 || ms > 600_000) throw new UsageError('--interval: must be between 100ms and 10m');
  return Math.round(ms);
}

function positiveInt(flag: string, text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw new UsageError(`${flag}: expected a positive integer, got "${text}"`);
  return Number(text);
}

function bool(flag: string, text: string): boolean {
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0') return false;
  throw new UsageError(`${flag}: expected true or false, got "${text}"`);
}

const BOOLEAN_WORDS: ReadonlySet<string> = new Set(['true', 'false', '1', '0']);
const BOOLEAN_FLAGS = new Set(['--hide-kernel', '--generate-config', '--json', '--help', '-h', '--version']);

export function parseArgs(argv: readonly string[]): CliOptions {
  const o: CliOptions = {
    intervalMs: 5000,
    topK: 5,
    hideKernel: true,
    cgroupFilter: '',
    exclude: [],
    generateConfig: false,
    json: false,
    pids: [],
    help: false,
    version: false,
  };
  let start = 0;
  if (argv[0] === 'install-helper') {
    o.command = 'install-helper';
    start = 1;
  }
  for (let i = start; i < argv.length; i++) {
    // Accept --flag value, --flag=value and the reference tool's single-dash spelling.
    let [flag, inline] = argv[i].split(/=(.*)/s, 2) as [string, string | undefined];
    if (/^-[a-z]{2,}/.test(flag)) flag = `-${flag}`;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[++i];
      if (next === undefined) throw new UsageError(`${flag}: missing value`);
      return next;
    };
    if (BOOLEAN_FLAGS.has(flag) && inline !== undefined && flag !== '--hide-kernel')
      throw new UsageError(`${flag} takes no value`);
    switch (flag) {
      case '--interval':
        o.intervalMs = parseDuration(value());
        break;
      case '--topk':
        o.topK = positiveInt(flag, value());
        break;
      case '--hide-kernel':
        // A separate boolean word belongs to the flag (--hide-kernel false), anything else is the next flag.
        if (inline !== undefined) o.hideKernel = bool(flag, inline);
        else if (BOOLEAN_WORDS.has(argv[i + 1] ?? '')) o.hideKernel = bool(flag, argv[++i]);
        else o.hideKernel = true;
        break;
      case '--cgroup-filter':
        o.cgroupFilter = value();
        break;
      case '--exclude':
        o.exclude.push(...excludeList(value()));
        break;
      case '--config':
        o.configPath = value();
        break;
      case '--generate-config':
        o.generateConfig = true;
        break;
      case '--json':
        o.json = true;
        break;
      case '--windows':
        o.windows = positiveInt(flag, value());
        break;
      case '--pid':
        o.pids.push(
          ...value()
            .split(',')
            .map((p) => positiveInt(flag, p.trim())),
        );
        break;
      case '--record':
        o.record = value();
        break;
      case '--replay':
        o.replay = value();
        break;
      case '--install-dir':
      case '--policy-dir':
        if (!o.command) throw new UsageError(`${flag} belongs to install-helper`);
        if (flag === '--install-dir') o.installDir = value();
        else o.policyDir = value();
        break;
      case '--help':
      case '-h':
        o.help = true;
        break;
      case '--version':
        o.version = true;
        break;
      default:
        throw new UsageError(`unknown flag "${argv[i]}"`);
    }
  }
  return o;
}
