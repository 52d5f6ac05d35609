// `hotspot serve`: the helper and the classifier running unattended, their figures served to Prometheus (and pushed
// over OTLP when asked). Order at start: flags and config (exit 2), helper spawned while still root, privileges
// dropped, then the port (exit 3); a helper that cannot run ends the service (exit 4) so its supervisor (systemd,
// Kubernetes) sees it rather than a server answering with nothing.
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import { loadConfigFile } from '../host/configFile';
import { HelperSupervisor, type Logger } from '../host/supervisor';
import { type Config, ConfigError, DEFAULT_CONFIG } from '../shared/diagnosis/config';
import { DiagnosisPipeline } from '../shared/diagnosis/pipeline';
import { plainText } from '../shared/format';
import type { Hello, Window } from '../shared/wire/protocol';
import { parseServeArgs, SERVE_USAGE, type ServeOptions, ServeUsageError } from './args';
import { Groups } from './groups';
import { type Health, ListenError, listen } from './http';
import { OtlpExporter } from './otlp';
import { dropPrivileges, PrivilegeError } from './privileges';
import { PrometheusExporter } from './prometheus';

export const EXIT = { usage: 2, listen: 3, helper: 4 } as const;

function say(message: string, hint?: string): void {
  process.stderr.write(`hotspot serve: ${plainText(message)}${hint ? `\n  ${plainText(hint)}` : ''}\n`);
}

async function loadConfig(o: ServeOptions): Promise<Config> {
  const cfg = o.configPath ? await loadConfigFile(o.configPath) : DEFAULT_CONFIG;
  return o.profile ? { ...cfg, profile: o.profile } : cfg;
}

/** Whether the last window is recent enough to be worth scraping, and why not. */
class Freshness {
  private lastAt?: number;
  private trouble = 'waiting for the helper to start';
  constructor(private readonly intervalMs: number) {}

  window(): void {
    this.lastAt = Date.now();
  }
  problem(why: string): void {
    this.trouble = why;
  }
  health(): Health {
    const win = `window ${this.intervalMs / 1000} s`;
    if (this.lastAt === undefined) return { ok: false, reason: `no window yet: ${this.trouble}` };
    const age = Date.now() - this.lastAt;
    const reason = `last window ${(age / 1000).toFixed(1)} s ago (${win})`;
    // Late by one and a half windows: the helper stalled or died. Before the supervisor's watchdog (three
    // windows), so a probe sees the stall before the service ends over it.
    if (age > 2.5 * this.intervalMs) return { ok: false, reason: `stale: ${reason}; ${this.trouble}` };
    return { ok: true, reason };
  }
}

export async function serveMain(argv: string[], version: string, helperPath: string): Promise<void> {
  let o: ServeOptions;
  let cfg: Config;
  try {
    o = parseServeArgs(argv);
    if (o.help) return void process.stdout.write(`${SERVE_USAGE}\n`);
    cfg = await loadConfig(o);
  } catch (e) {
    if (e instanceof ServeUsageError || e instanceof ConfigError) {
      say(e.message);
      process.exit(EXIT.usage);
    }
    throw e;
  }
  const root = process.getuid?.() === 0;
  const fresh = new Freshness(o.intervalMs);
  const groups = new Groups({
    pidLabels: o.pidLabels,
    maxSeries: o.maxSeries,
    hideKernel: o.hideKernel,
    exclude: [...cfg.exclude, ...o.exclude],
  });
  const prom = new PrometheusExporter(version, o.pidLabels);
  const otlp = o.otlpEndpoint
    ? new OtlpExporter({
        url: o.otlpEndpoint,
        intervalMs: o.otlpIntervalMs,
        version,
        hostName: hostname(),
        pidLabels: o.pidLabels,
        warn: (m) => say(m),
      })
    : undefined;
  let pipeline: DiagnosisPipeline | undefined;
  let helperPid: number | undefined;

  const log: Logger = { info: () => {}, debug: () => {}, warn: (m) => say(m), error: () => {} };
  const sup = new HelperSupervisor({
    helperArgs: ['--interval-ms', String(o.intervalMs)],
    devHelperPath: helperPath,
    log,
    // Once root is dropped a crashed helper cannot be started again from here: the service exits and its
    // supervisor (systemd Restart=, a DaemonSet) starts it afresh, as root.
    maxRestarts: root ? 0 : undefined,
  });

  let server: Server | undefined;
  let stopping = false;
  const stop = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    server?.close();
    server?.closeAllConnections();
    await Promise.all([sup.stop(), otlp?.shutdown()]);
    process.exit(code);
  };

  sup.on('hello', (h: Hello) => {
    pipeline = new DiagnosisPipeline(cfg, h);
    helperPid = h.pid;
    groups.exclude = [...cfg.exclude, ...o.exclude, String(h.pid)];
  });
  sup.on('window', (w: Window) => {
    if (!pipeline) return;
    const snap = groups.update(w, pipeline.push(w));
    prom.update(snap);
    otlp?.update(snap);
    fresh.window();
  });
  sup.on('failure', (f) => {
    say(f.message, f.hint);
    fresh.problem(`helper: ${f.message}`);
    if (f.fatal) {
      say('the eBPF helper cannot run, so there is nothing to serve; stopping.');
      void stop(EXIT.helper);
    }
  });
  sup.on('state', (s) => {
    if (s === 'running') fresh.problem('helper running');
    if (s === 'failed') void stop(EXIT.helper);
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void stop(0));
  process.on('SIGHUP', () => {
    if (!o.configPath) return say('SIGHUP: no --config file to reload; the defaults stay');
    loadConfig(o).then(
      (next) => {
        cfg = next;
        pipeline?.setConfig(next);
        groups.exclude = [...next.exclude, ...o.exclude, ...(helperPid ? [String(helperPid)] : [])];
        prom.configLoaded(true);
        say(`SIGHUP: reloaded ${o.configPath}`);
      },
      (e: Error) => {
        prom.configLoaded(false);
        say(`SIGHUP: kept the previous config: ${e.message}`);
      },
    );
  });

  // The helper is spawned (fork + exec happen inside start()) while this process is still root; only then is
  // root given up, before anything listens.
  sup.start();
  if (root) {
    try {
      const a = dropPrivileges(o.user);
      say(`helper started as root; serving as ${a.name} (uid ${a.uid})`);
    } catch (e) {
      say((e as Error).message);
      return stop(e instanceof PrivilegeError && o.user ? EXIT.usage : EXIT.helper);
    }
  }
  try {
    const l = await listen(
      { metrics: (accept) => prom.expose(accept), health: () => fresh.health() },
      o.listen,
    );
    server = l.server;
    say(
      `listening on ${l.url} (GET /metrics, /healthz), window ${o.intervalMs / 1000} s` +
        (o.otlpEndpoint ? `; pushing OTLP to ${o.otlpEndpoint} every ${o.otlpIntervalMs / 1000} s` : ''),
    );
  } catch (e) {
    say((e as Error).message);
    return stop(e instanceof ListenError ? EXIT.listen : 1);
  }
}
