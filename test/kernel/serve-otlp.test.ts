// `hotspot serve --otlp-endpoint`: a small OTLP/HTTP receiver in the test decodes the JSON the official exporter
// pushes, and the figures for one window — matched by its end time — equal those of a /metrics scrape of the same
// window. With --pid-labels the per-process points carry process.pid (the semantic conventions), here the pid of
// a busy loop the test started.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { test } from 'node:test';
import { serve, waitFor } from './serve-util';

interface KeyValue {
  key: string;
  value: { stringValue?: string; intValue?: string | number; doubleValue?: number };
}
interface DataPoint {
  attributes?: KeyValue[];
  asDouble?: number;
  asInt?: string | number;
}
interface OtlpMetric {
  name: string;
  unit?: string;
  gauge?: { dataPoints: DataPoint[] };
  sum?: { dataPoints: DataPoint[]; isMonotonic?: boolean };
}
interface Payload {
  resourceMetrics: { resource: { attributes: KeyValue[] }; scopeMetrics: { metrics: OtlpMetric[] }[] }[];
}

const attr = (kvs: KeyValue[] | undefined, key: string) => {
  const v = kvs?.find((a) => a.key === key)?.value;
  return v?.stringValue ?? (v?.intValue !== undefined ? String(v.intValue) : undefined);
};
const num = (p: DataPoint) => (p.asDouble !== undefined ? p.asDouble : Number(p.asInt));

function receiver(payloads: Payload[]): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => {
      body += c;
    });
    req.on('end', () => {
      if (req.url === '/v1/metrics' && req.headers['content-type']?.includes('json'))
        payloads.push(JSON.parse(body));
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve({ server, url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/v1/metrics` });
    }),
  );
}

/** Prometheus text → name{labels} → value. */
function parseExposition(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

test('OTLP push: the same figures as the scrape of the same window, process.pid with --pid-labels', {
  timeout: 120_000,
}, async () => {
  const payloads: Payload[] = [];
  const r = await receiver(payloads);
  const burner = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'yes'], { stdio: 'ignore' }) as ChildProcess;
  const s = await serve([
    '--interval',
    '1s',
    '--listen',
    '127.0.0.1:0',
    '--pid-labels',
    '--otlp-endpoint',
    r.url,
    '--otlp-interval',
    '1s',
  ]);
  try {
    const pid = String(burner.pid);
    // Scrape until a pushed payload covers the same window (same end time) as a scrape.
    const scrapes = new Map<number, Map<string, number>>();
    const match = await waitFor('an OTLP payload of a window also scraped', 60_000, async () => {
      const m = parseExposition(await (await fetch(`${s.url}/metrics`)).text());
      const end = m.get('hotspot_window_end_timestamp_seconds');
      if (end !== undefined) scrapes.set(end, m);
      for (const p of payloads) {
        const metrics = p.resourceMetrics.flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));
        const endPoint = metrics.find((x) => x.name === 'hotspot.window.end')?.gauge?.dataPoints[0];
        const scrape = endPoint && scrapes.get(num(endPoint));
        const cpu = metrics.find((x) => x.name === 'hotspot.cpu.time');
        if (scrape && cpu?.sum?.dataPoints.some((d) => attr(d.attributes, 'process.pid') === pid))
          return { payload: p, metrics, scrape };
      }
      return undefined;
    });
    const res = match.payload.resourceMetrics[0].resource.attributes;
    assert.equal(attr(res, 'service.name'), 'hotspot');
    assert.match(attr(res, 'service.version') ?? '', /^\d+\.\d+\.\d+/);
    assert.ok(attr(res, 'host.name'), 'host.name is set');

    const cpu = match.metrics.find((x) => x.name === 'hotspot.cpu.time')!;
    assert.equal(cpu.unit, 's');
    assert.equal(cpu.sum?.isMonotonic, true, 'counters arrive as monotonic sums');
    const point = cpu.sum!.dataPoints.find((d) => attr(d.attributes, 'process.pid') === pid)!;
    assert.equal(attr(point.attributes, 'process.executable.name'), 'yes');
    const cgroup = attr(point.attributes, 'cgroup');
    const promKey = `hotspot_cpu_seconds_total{comm="yes",cgroup="${cgroup}",pid="${pid}"}`;
    assert.ok(match.scrape.has(promKey), `the scrape has ${promKey}`);
    assert.equal(num(point), match.scrape.get(promKey), 'CPU seconds: pushed = scraped');
    assert.ok(num(point) > 0, 'the busy loop used CPU');

    // Every pushed point of every family equals its scraped twin.
    let compared = 0;
    for (const m of match.metrics) {
      const family = m.name;
      for (const d of m.gauge?.dataPoints ?? m.sum?.dataPoints ?? []) {
        const pidAttr = attr(d.attributes, 'process.pid');
        if (pidAttr === undefined || pidAttr !== pid) continue;
        const diagnosis = attr(d.attributes, 'diagnosis');
        const name = {
          'hotspot.diagnosis': 'hotspot_diagnosis',
          'hotspot.cpu.time': 'hotspot_cpu_seconds_total',
          'hotspot.cpu.wait_time': 'hotspot_cpu_wait_seconds_total',
          'hotspot.cpu.throttled_time': 'hotspot_cpu_throttled_seconds_total',
          'hotspot.major_faults': 'hotspot_major_faults_total',
          'hotspot.memory.anonymous': 'hotspot_anon_memory_bytes',
        }[family];
        if (!name) continue;
        const key = `${name}{comm="yes",cgroup="${cgroup}",pid="${pid}"${diagnosis ? `,diagnosis="${diagnosis}"` : ''}}`;
        assert.equal(num(d), match.scrape.get(key), key);
        compared++;
      }
    }
    assert.ok(compared >= 11, `compared ${compared} points of the burner`);
    const helperCpu = match.metrics.find((x) => x.name === 'hotspot.helper.cpu.time')!.sum!.dataPoints[0];
    assert.equal(num(helperCpu), match.scrape.get('hotspot_helper_cpu_seconds_total'));
    console.log(`  ${payloads.length} payloads received; ${compared} burner points equal to the scrape`);
  } finally {
    burner.kill('SIGKILL');
    const code = await s.stop();
    r.server.close();
    assert.equal(code, 0, s.stderr());
  }
});
