// The Prometheus side: prom-client metrics built from FAMILIES, filled from each window's snapshot. A format's
// exposition is rendered by the first scrape of a window that asks for it and kept for the rest of the window (a
// fleet scrapes one format, so the other is never rendered). A scrape never waits on the helper.
import { Counter, Gauge, type OpenMetricsContentType, Registry } from 'prom-client';
import { FAMILIES, type Point } from './families';
import type { Snapshot } from './groups';

export interface Exposition {
  contentType: string;
  body: string;
}

/**
 * One registry with its own metric objects. Not shared between the two formats: prom-client renames a counter
 * in place (drops `_total`) when an OpenMetrics registry renders it, which then broke the text format's names.
 */
class Exposer {
  readonly registry: Registry;
  private readonly metrics: (Gauge | Counter)[];
  private readonly reload: Gauge;
  /** The exposition of the current figures, rendered at the first scrape that asks for this format. */
  private cached?: Promise<string>;

  constructor(openMetrics: boolean, version: string, pidLabels: boolean) {
    this.registry = new Registry();
    if (openMetrics)
      (this.registry as unknown as Registry<OpenMetricsContentType>).setContentType(
        Registry.OPENMETRICS_CONTENT_TYPE,
      );
    const registers = [this.registry];
    const group = pidLabels ? ['comm', 'cgroup', 'pid'] : ['comm', 'cgroup'];
    this.metrics = FAMILIES.map((f) => {
      const o = {
        name: f.prom,
        help: f.help,
        labelNames: [...(f.perGroup ? group : []), ...f.labels],
        registers,
      };
      return f.kind === 'counter' ? new Counter(o) : new Gauge(o);
    });
    new Gauge({
      name: 'hotspot_build_info',
      help: 'Always 1; the version of hotspot serve in a label.',
      labelNames: ['version'],
      registers,
    }).set({ version }, 1);
    this.reload = new Gauge({
      name: 'hotspot_config_last_reload_successful',
      help: 'Whether the last config load (at start or on SIGHUP) succeeded (1) or kept the previous config (0).',
      registers,
    });
    this.reload.set(1);
  }

  /** Before the first window a scrape still answers (build info, empty families) instead of failing the target. */
  rendered(): Promise<string> {
    this.cached ??= this.registry.metrics();
    return this.cached;
  }

  configLoaded(ok: boolean): void {
    this.reload.set(ok ? 1 : 0);
    this.cached = undefined;
  }

  /** Every family is refilled from its points (one array per family), so a removed group's series disappear. */
  fill(points: readonly Point[][]): void {
    this.metrics.forEach((m, i) => {
      m.reset();
      if (m instanceof Counter) for (const p of points[i]) m.inc(p.attrs, p.value);
      else for (const p of points[i]) m.set(p.attrs, p.value);
    });
    this.cached = undefined;
  }
}

export class PrometheusExporter {
  private readonly text: Exposer;
  private readonly open: Exposer;

  constructor(version: string, pidLabels: boolean) {
    this.text = new Exposer(false, version, pidLabels);
    this.open = new Exposer(true, version, pidLabels);
  }

  configLoaded(ok: boolean): void {
    this.text.configLoaded(ok);
    this.open.configLoaded(ok);
  }

  /** The window's points are computed once for both formats; each is rendered only if a scrape asks for it. */
  update(s: Snapshot): void {
    const points = FAMILIES.map((f) => f.points(s));
    this.text.fill(points);
    this.open.fill(points);
  }

  /** The last window's exposition; OpenMetrics when the Accept header asks for it (as Prometheus does). */
  async expose(accept: string | undefined): Promise<Exposition> {
    if (accept?.includes('application/openmetrics-text'))
      return { contentType: Registry.OPENMETRICS_CONTENT_TYPE, body: await this.open.rendered() };
    return { contentType: Registry.PROMETHEUS_CONTENT_TYPE, body: await this.text.rendered() };
  }
}
