// Every metric `serve` exports, declared once: its Prometheus name, its OpenTelemetry name and unit, its help text
// and how to read it from a snapshot. The Prometheus registry and the OTLP meter are both built from this table, so
// the two cannot drift apart.
import { LABELS, type Label } from '../shared/diagnosis/model';
import type { GroupFigures, GroupLabels, Snapshot } from './groups';

export type Attrs = Record<string, string>;
export interface Point {
  attrs: Attrs;
  value: number;
}

export interface Family {
  prom: string;
  otel: string;
  unit: string;
  kind: 'gauge' | 'counter';
  help: string;
  /** Label names beyond the group's (comm, cgroup[, pid]). */
  labels: readonly string[];
  /** Whether the group's labels come first. */
  perGroup: boolean;
  points(s: Snapshot): Point[];
}

function perGroup(read: (g: GroupFigures) => number | null | undefined): (s: Snapshot) => Point[] {
  return (s) => {
    const out: Point[] = [];
    for (const g of s.groups) {
      const v = read(g);
      if (v !== null && v !== undefined) out.push({ attrs: g.labels as unknown as Attrs, value: v });
    }
    return out;
  };
}

function withLabel(labels: GroupLabels, diagnosis: Label): Attrs {
  return { ...(labels as unknown as Attrs), diagnosis };
}

export const FAMILIES: readonly Family[] = [
  {
    prom: 'hotspot_diagnosis',
    otel: 'hotspot.diagnosis',
    unit: '{process}',
    kind: 'gauge',
    help: 'Processes of the group with this diagnosis in the last window (0 when none; every diagnosis listed for a live group).',
    labels: ['diagnosis'],
    perGroup: true,
    points: (s) =>
      s.groups.flatMap((g) => LABELS.map((l) => ({ attrs: withLabel(g.labels, l), value: g.diagnoses[l] }))),
  },
  {
    prom: 'hotspot_time_to_oom_seconds',
    otel: 'hotspot.time_to_oom',
    unit: 's',
    kind: 'gauge',
    help: 'Seconds until the soonest member of the group reaches the memory limit that will kill it, at its current growth (absent when none is growing towards one).',
    labels: [],
    perGroup: true,
    points: perGroup((g) => g.timeToOomSec),
  },
  {
    prom: 'hotspot_cpu_seconds_total',
    otel: 'hotspot.cpu.time',
    unit: 's',
    kind: 'counter',
    help: 'CPU time used by the group, every thread, exited members included.',
    labels: [],
    perGroup: true,
    points: perGroup((g) => g.cpuSec),
  },
  {
    prom: 'hotspot_cpu_wait_seconds_total',
    otel: 'hotspot.cpu.wait_time',
    unit: 's',
    kind: 'counter',
    help: 'Time the group was runnable but waiting for a CPU (run-queue delay), every thread.',
    labels: [],
    perGroup: true,
    points: perGroup((g) => g.waitSec),
  },
  {
    prom: 'hotspot_cpu_throttled_seconds_total',
    otel: 'hotspot.cpu.throttled_time',
    unit: 's',
    kind: 'counter',
    help: "Time the group's members were held back by a CPU quota of their cgroup while active.",
    labels: [],
    perGroup: true,
    points: perGroup((g) => g.throttledSec),
  },
  {
    prom: 'hotspot_cpu_blocked_io_seconds_total',
    otel: 'hotspot.cpu.blocked_io_time',
    unit: 's',
    kind: 'counter',
    help: 'Time the group was blocked waiting for disk I/O (present only when the helper measures it).',
    labels: [],
    perGroup: true,
    points: perGroup((g) => g.blockedIoSec),
  },
  {
    prom: 'hotspot_major_faults_total',
    otel: 'hotspot.major_faults',
    unit: '{fault}',
    kind: 'counter',
    help: 'Major page faults of the group (pages read back from disk or swap).',
    labels: [],
    perGroup: true,
    points: perGroup((g) => g.majorFaults),
  },
  {
    prom: 'hotspot_anon_memory_bytes',
    otel: 'hotspot.memory.anonymous',
    unit: 'By',
    kind: 'gauge',
    help: 'Anonymous + shmem resident memory of the group (what reclaim cannot free without swap).',
    labels: [],
    perGroup: true,
    points: perGroup((g) => g.anonBytes),
  },
  {
    prom: 'hotspot_pressure_ratio',
    otel: 'hotspot.pressure',
    unit: '1',
    kind: 'gauge',
    help: 'Machine-wide pressure stall, "some" avg10, as a ratio (0..1) per resource (absent without PSI).',
    labels: ['resource'],
    perGroup: false,
    points: (s) =>
      s.pressure
        ? (['cpu', 'memory', 'io'] as const).map((r) => ({
            attrs: { resource: r },
            value: s.pressure![r] / 100,
          }))
        : [],
  },
  {
    prom: 'hotspot_cpu_busy_ratio',
    otel: 'hotspot.cpu.busy',
    unit: '1',
    kind: 'gauge',
    help: 'Share of all online CPUs busy in the last window (0..1).',
    labels: [],
    perGroup: false,
    points: (s) => [{ attrs: {}, value: s.machineBusyRatio }],
  },
  {
    prom: 'hotspot_memory_available_bytes',
    otel: 'hotspot.memory.available',
    unit: 'By',
    kind: 'gauge',
    help: 'MemAvailable at the end of the last window.',
    labels: [],
    perGroup: false,
    points: (s) => (s.memAvailableBytes !== undefined ? [{ attrs: {}, value: s.memAvailableBytes }] : []),
  },
  {
    prom: 'hotspot_processes',
    otel: 'hotspot.processes',
    unit: '{process}',
    kind: 'gauge',
    help: 'Live processes diagnosed in the last window (after the kernel-thread and exclude filters).',
    labels: [],
    perGroup: false,
    points: (s) => [{ attrs: {}, value: s.processes }],
  },
  {
    prom: 'hotspot_helper_cpu_seconds_total',
    otel: 'hotspot.helper.cpu.time',
    unit: 's',
    kind: 'counter',
    help: "CPU time used by Hotspot's root helper (reading the kernel's counters).",
    labels: [],
    perGroup: false,
    points: (s) => [{ attrs: {}, value: s.helperCpuSec }],
  },
  {
    prom: 'hotspot_helper_resident_memory_bytes',
    otel: 'hotspot.helper.memory.resident',
    unit: 'By',
    kind: 'gauge',
    help: "Resident memory of Hotspot's root helper.",
    labels: [],
    perGroup: false,
    points: (s) => [{ attrs: {}, value: s.helperRssBytes }],
  },
  {
    prom: 'hotspot_series_dropped_total',
    otel: 'hotspot.series.dropped',
    unit: '{series}',
    kind: 'counter',
    help: 'Per-group series left out because of --max-series, summed over windows.',
    labels: [],
    perGroup: false,
    points: (s) => [{ attrs: {}, value: s.seriesDroppedTotal }],
  },
  {
    prom: 'hotspot_window_seconds',
    otel: 'hotspot.window.duration',
    unit: 's',
    kind: 'gauge',
    help: 'Length of the last completed measurement window.',
    labels: [],
    perGroup: false,
    points: (s) => [{ attrs: {}, value: s.durationSec }],
  },
  {
    prom: 'hotspot_window_end_timestamp_seconds',
    otel: 'hotspot.window.end',
    unit: 's',
    kind: 'gauge',
    help: 'When the last completed window ended (Unix time): the figures above are from it.',
    labels: [],
    perGroup: false,
    points: (s) => [{ attrs: {}, value: s.ts / 1000 }],
  },
];
