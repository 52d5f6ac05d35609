// Runs as an unprivileged user in test/kernel/pkexec.test.ts: drives HelperSupervisor through real pkexec
// (or installHelper through pkexec) and reports every event as one JSON line on stdout.
// Usage: node driver.js supervise <installDir> <windows> | install <extensionPath> <installDir> [policyDir]
import { installHelper } from '../../src/host/install';
import { eventLog, installedSupervisor, out } from './driverIo';

const log = eventLog(true);
const [mode, dir, arg, policyDir] = process.argv.slice(2);

if (mode === 'install') {
  installHelper({ extensionPath: dir, installDir: arg, policyDir, log }).then(
    (r) => out({ ev: 'installed', ...r }),
    (e: Error & { hint?: string }) => {
      out({ ev: 'installError', message: e.message, hint: e.hint });
      process.exitCode = 1;
    },
  );
} else {
  const wantWindows = Number(arg) || 2;
  const sup = installedSupervisor(dir, log);
  let windows = 0;
  const giveUp = setTimeout(() => {
    out({ ev: 'timeout' });
    void sup.stop().then(() => process.exit(2));
  }, 60_000);
  const finish = async () => {
    const t = Date.now();
    await sup.stop();
    out({ ev: 'stopped', ms: Date.now() - t, state: sup.state });
    clearTimeout(giveUp);
  };
  sup
    .on('state', (s) => {
      out({ ev: 'state', s });
      if (s === 'failed') void finish();
    })
    .on('hello', (h) => out({ ev: 'hello', pid: h.pid, attach: h.attach }))
    .on('window', (w) => {
      out({ ev: 'window', seq: w.seq, procs: w.procs.length });
      if (++windows === wantWindows) void finish();
    })
    .on('failure', (f) => out({ ev: 'failure', ...f }));
  sup.start();
}
