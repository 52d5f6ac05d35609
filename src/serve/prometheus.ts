// The Prometheus side: prom-client metrics built from FAMILIES, filled from each window's snapshot, and the
// exposition rendered once per window in both formats. A scrape gets that text as it is — it never waits on the
// helper or on formatting thousands of series.
import { Counter, Gauge, type OpenMetricsContentType, Registry } from 'prom-client';
import { FAMILIES } from './families';
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
  rendered: Promise<string>;

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
    // Before the first window a scrape still answers (build info, empty families) instead of failing the target.
    this.rendered = this.registry.metrics();
  }

  configLoaded(ok: boolean): void {
    this.reload.set(ok ? 1 : 0);
    this.rendered = this.registry.metrics();
  }

  /** Every family is refilled, so a removed group's series disappear with it. */
  update(s: Snapshot): void {
    FAMILIES.forEach((f, i) => {
      const m = this.metrics[i];
      m.reset();
      if (m instanceof Counter) for (const p of f.points(s)) m.inc(p.attrs, p.value);
      else for (const p of f.points(s)) m.set(p.attrs, p.value);
    });
    this.rendered = this.registry.metrics();
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

  update(s: Snapshot): void {
    this.text.update(s);
    this.open.update(s);
  }

  /** The last window's exposition; OpenMetrics when the Accept header asks for it (as Prometheus does). */
  async expose(accept: string | undefined): Promise<Exposition> {
    if (accept?.includes('application/openmetrics-text'))
      return { contentType: Registry.OPENMETRICS_CONTENT_TYPE, body: await this.open.rendered };
    return { contentType: Registry.PROMETHEUS_CONTENT_TYPE, body: await this.text.rendered };
  }
}
