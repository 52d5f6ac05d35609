// The OpenTelemetry side: the same FAMILIES as observable instruments of the official SDK, pushed as OTLP/HTTP
// JSON every --otlp-interval. The callbacks read the last window's snapshot, so a push never waits on the helper
// and pushes the same figures a scrape of /metrics would show.
import { type Attributes, DiagLogLevel, diag } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { Attrs } from './families';
import { FAMILIES } from './families';
import type { Snapshot } from './groups';

export interface OtlpOptions {
  url: string;
  intervalMs: number;
  version: string;
  hostName: string;
  pidLabels: boolean;
  warn(message: string): void;
}

/**
 * Group labels as OTLP attributes. Per process (--pid-labels) they follow the process.* semantic conventions
 * (process.pid, process.executable.name); per group they keep the Prometheus label names, since a group is not a
 * process.
 */
export function otlpAttributes(a: Attrs, pidLabels: boolean): Attributes {
  if (!pidLabels || a.pid === undefined) return a;
  const { pid, comm, ...rest } = a;
  return { ...rest, 'process.pid': Number(pid), 'process.executable.name': comm };
}

export class OtlpExporter {
  private snap?: Snapshot;
  private readonly provider: MeterProvider;

  constructor(o: OtlpOptions) {
    // The SDK reports failed pushes through its diag logger; say the first and then every 10th, not every push.
    let failures = 0;
    diag.setLogger(
      {
        error: (m) => {
          if (failures++ % 10 === 0) o.warn(`OTLP push to ${o.url} failed (${failures} so far): ${m}`);
        },
        warn: () => {},
        info: () => {},
        debug: () => {},
        verbose: () => {},
      },
      DiagLogLevel.ERROR,
    );
    const reader = new PeriodicExportingMetricReader({
      exporter: new OTLPMetricExporter({ url: o.url }),
      exportIntervalMillis: o.intervalMs,
      exportTimeoutMillis: Math.min(o.intervalMs, 10_000),
    });
    this.provider = new MeterProvider({
      resource: resourceFromAttributes({
        'host.name': o.hostName,
        [ATTR_SERVICE_NAME]: 'hotspot',
        [ATTR_SERVICE_VERSION]: o.version,
      }),
      readers: [reader],
    });
    const meter = this.provider.getMeter('hotspot', o.version);
    for (const f of FAMILIES) {
      const opts = { description: f.help, unit: f.unit };
      const instrument =
        f.kind === 'counter'
          ? meter.createObservableCounter(f.otel, opts)
          : meter.createObservableGauge(f.otel, opts);
      instrument.addCallback((r) => {
        if (!this.snap) return;
        for (const p of f.points(this.snap)) r.observe(p.value, otlpAttributes(p.attrs, o.pidLabels));
      });
    }
  }

  update(s: Snapshot): void {
    this.snap = s;
  }

  /** Pushes what is pending and stops (on SIGTERM), within the export timeout. */
  shutdown(): Promise<void> {
    return this.provider.shutdown().catch(() => {});
  }
}
