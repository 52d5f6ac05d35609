// Runs as an unprivileged user in test/kernel/pkexec-security.test.ts: drives HelperSupervisor through real pkexec
// while the test stalls the root helper, and reports every event as one JSON line on stdout.
// Usage: node driver.js stall <installDir>        — the watchdog must report STALLED and abandon the helper
//        node driver.js stop-stalled <installDir> — on SIGUSR1, stop() must resolve within its bound
import { eventLog, installedSupervisor, out } from './driverIo';

const log = eventLog(false);
const [mode, dir] = process.argv.slice(2);

const sup = installedSupervisor(dir, log);
const giveUp = setTimeout(() => {
  out({ ev: 'timeout' });
  process.exit(2);
}, 80_000);
const stop = async () => {
  const t = Date.now();
  await sup.stop();
  out({ ev: 'stopped', ms: Date.now() - t, state: sup.state });
  clearTimeout(giveUp);
  process.exit(0);
};
let helperPid = 0;
let ready = false;
sup
  .on('state', (s) => {
    out({ ev: 'state', s });
    if (s === 'failed') void stop();
  })
  .on('hello', (h) => {
    helperPid = h.pid;
  })
  .on('window', (w) => {
    out({ ev: 'window', seq: w.seq });
    if (!ready) out({ ev: 'ready', helperPid, driverPid: process.pid, mode });
    ready = true;
  })
  .on('failure', (f) => out({ ev: 'failure', at: Date.now(), ...f }));
if (mode === 'stop-stalled') process.on('SIGUSR1', () => void stop());
sup.start();
