// Flags of `hotspot serve`. Pure: parsing never touches the network or the file system, so every refusal (a bad
// address, a public one without --listen-public) is unit-tested directly and reported before anything starts.
import { isIP } from 'node:net';
import { PROFILES, type Profile } from '../shared/diagnosis/model';
import { excludeList } from '../shared/presentation/viewFilters';

export interface Listen {
  host: string;
  port: number;
}

export interface ServeOptions {
  intervalMs: number;
  configPath?: string;
  /** Overrides the config file's `profile:` (kept across SIGHUP reloads). */
  profile?: Profile;
  listen: Listen;
  listenPublic: boolean;
  /** One series per process (labelled with its pid) instead of one per command name and cgroup. */
  pidLabels: boolean;
  maxSeries: number;
  hideKernel: boolean;
  exclude: string[];
  otlpEndpoint?: string;
  otlpIntervalMs: number;
  /** Who the HTTP side runs as when started as root. */
  user?: string;
  help: boolean;
}

export class ServeUsageError extends Error {
  override name = 'ServeUsageError';
}

export const DEFAULT_LISTEN: Listen = { host: '127.0.0.1', port: 9464 };
export const DEFAULT_MAX_SERIES = 10_000;

export const SERVE_USAGE = `Usage: hotspot serve [flags]

Runs the helper and the classifier continuously and serves the diagnoses as Prometheus metrics
(GET /metrics, OpenMetrics when the Accept header asks for it) and a health check (GET /healthz).
Started as root (the systemd unit), it starts the helper and then runs as an unprivileged user.

  --listen <host:port>   address to serve on (default 127.0.0.1:9464; port 0 picks a free one)
  --listen-public        allow an address other than loopback (the metrics name every busy command)
  --interval <dur>       measurement window, e.g. 1s, 5s (default 5s)
  --config <file.yaml>   thresholds, the same file as the CLI's and the extension's; SIGHUP reloads it
  --profile <name>       rule set: default or reference (overrides the config's profile:)
  --pid-labels           one series per process, labelled with its pid (default: per command and cgroup)
  --max-series <n>       cap on per-group series (default ${DEFAULT_MAX_SERIES}); the rest are counted in
                         hotspot_series_dropped_total
  --hide-kernel [bool]   leave kernel threads out (default true)
  --exclude <a,b,123>    leave processes out by comm or pid (adds to the config's exclude list)
  --otlp-endpoint <url>  also push the figures as OTLP metrics (HTTP/JSON), e.g. http://127.0.0.1:4318/v1/metrics
  --otlp-interval <dur>  how often to push (default 10s)
  --user <name>          user the server runs as when started as root (default: hotspot, else nobody)

Exit codes: 0 stopped by a signal, 2 bad flags or config, 3 cannot listen, 4 the helper could not start.`;

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m)?$/;

function duration(flag: string, text: string, minMs: number, maxMs: number): number {
  const m = DURATION.exec(text.trim());
  if (!m) throw new ServeUsageError(`${flag}: "${text}" is not a duration (try 5s, 500ms or 1m)`);
  const ms = Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000);
  if (ms < minMs || ms > maxMs)
    throw new ServeUsageError(`${flag}: must be between ${minMs} ms and ${maxMs / 60_000} min`);
  return Math.round(ms);
}

/** "host:port", "[v6]:port"; the host must be an IP address or "localhost" (a name could resolve anywhere). */
export function parseListen(text: string): Listen {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (!m)
    throw new ServeUsageError(
      `--listen: "${text}" is not host:port (e.g. 127.0.0.1:9464, [::1]:9464, 0.0.0.0:9464)`,
    );
  const host = m[1] ?? m[2];
  const port = Number(m[3]);
  if (port > 65535) throw new ServeUsageError(`--listen: port ${port} is above 65535`);
  if (host !== 'localhost' && isIP(host) === 0)
    throw new ServeUsageError(
      `--listen: "${host}" is not an IP address; give one (127.0.0.1, ::1, or the address of one interface)`,
    );
  if (m[1] !== undefined && isIP(host) !== 6) throw new ServeUsageError(`--listen: "[${host}]" is not IPv6`);
  return { host, port };
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  return mapped?.[1].startsWith('127.') === true;
}

function positiveInt(flag: string, text: string): number {
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1)
    throw new ServeUsageError(`${flag}: expected a positive integer, got "${text}"`);
  return Number(text);
}

function otlpUrl(text: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new ServeUsageError(
      `--otlp-endpoint: "${text}" is not a URL (e.g. http://127.0.0.1:4318/v1/metrics)`,
    );
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new ServeUsageError(`--otlp-endpoint: only http: and https: are supported, not ${u.protocol}`);
  return u.href;
}

export function parseServeArgs(argv: readonly string[]): ServeOptions {
  const o: ServeOptions = {
    intervalMs: 5000,
    listen: DEFAULT_LISTEN,
    listenPublic: false,
    pidLabels: false,
    maxSeries: DEFAULT_MAX_SERIES,
    hideKernel: true,
    exclude: [],
    otlpIntervalMs: 10_000,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2) as [string, string | undefined];
    const value = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[++i];
      if (next === undefined) throw new ServeUsageError(`${flag}: missing value`);
      return next;
    };
    const noValue = () => {
      if (inline !== undefined) throw new ServeUsageError(`${flag} takes no value`);
    };
    switch (flag) {
      case '--listen':
        o.listen = parseListen(value());
        break;
      case '--listen-public':
        noValue();
        o.listenPublic = true;
        break;
      case '--interval':
        o.intervalMs = duration(flag, value(), 100, 600_000);
        break;
      case '--config':
        o.configPath = value();
        break;
      case '--profile': {
        const p = value();
        if (!(PROFILES as readonly string[]).includes(p))
          throw new ServeUsageError(`--profile: "${p}" is not one of ${PROFILES.join(', ')}`);
        o.profile = p as Profile;
        break;
      }
      case '--pid-labels':
        noValue();
        o.pidLabels = true;
        break;
      case '--max-series':
        o.maxSeries = positiveInt(flag, value());
        break;
      case '--hide-kernel': {
        const next = inline ?? argv[i + 1];
        if (next === 'true' || next === 'false') {
          if (inline === undefined) i++;
          o.hideKernel = next === 'true';
        } else if (inline !== undefined) throw new ServeUsageError(`--hide-kernel: expected true or false`);
        else o.hideKernel = true;
        break;
      }
      case '--exclude':
        o.exclude.push(...excludeList(value()));
        break;
      case '--otlp-endpoint':
        o.otlpEndpoint = otlpUrl(value());
        break;
      case '--otlp-interval':
        o.otlpIntervalMs = duration(flag, value(), 1000, 3_600_000);
        break;
      case '--user': {
        const u = value();
        if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(u))
          throw new ServeUsageError(`--user: "${u}" is not a user name`);
        if (u === 'root')
          throw new ServeUsageError('--user: the HTTP side never runs as root; name another user');
        o.user = u;
        break;
      }
      case '--help':
      case '-h':
        o.help = true;
        break;
      default:
        throw new ServeUsageError(`unknown flag "${argv[i]}" (hotspot serve --help lists them)`);
    }
  }
  if (!o.listenPublic && !isLoopback(o.listen.host))
    throw new ServeUsageError(
      `--listen: ${o.listen.host} is not a loopback address. The metrics name every busy command and cgroup of ` +
        'this machine, so serving them beyond it is opt-in: add --listen-public (and restrict who can reach the port).',
    );
  return o;
}
