// Ground truth for blocked time: the thread states of processes, sampled at 200 Hz by states.py.
import { spawn } from 'node:child_process';
import * as path from 'node:path';

/** Per pid, how many thread-samples were in each state (R, S, D, …). */
export type StateCounts = Record<string, Record<string, number>>;

/**
 * Samples the pids' thread states for `secs` seconds on CPU `cpu`, away from the workloads (on CPU 0 in these
 * tests): a sampler sharing their CPU finds them runnable more often than they are — it takes the CPU when it
 * looks (on both CPUs it read D 54 % for a reader Hotspot found in D 63 %).
 */
export function sampleStates(pids: number[], secs: number, cpu = '1'): Promise<StateCounts> {
  const script = path.join(__dirname, 'states.py');
  const s = spawn('taskset', ['-c', cpu, 'python3', script, String(secs), ...pids.map(String)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  s.stdout.setEncoding('utf8').on('data', (c: string) => {
    out += c;
  });
  return new Promise((resolve, reject) =>
    s.on('exit', () => {
      try {
        resolve(JSON.parse(out) as StateCounts);
      } catch (e) {
        reject(e);
      }
    }),
  );
}

/** The share of samples in D among D + R: time waiting in the kernel against time running or runnable. */
export const dShare = (st: Record<string, number> = {}): number =>
  (st.D ?? 0) / Math.max(1, (st.D ?? 0) + (st.R ?? 0));
