// What the unprivileged pkexec test drivers share: events as JSON lines on stdout, a Logger that sends its lines
// as events, and a supervisor of the installed helper that never restarts it (each test judges one run).
import { HelperSupervisor, type Logger } from '../../src/host/supervisor';

export const out = (o: object): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};

export function eventLog(withDebug: boolean): Logger {
  return {
    info: (m) => out({ ev: 'log', level: 'info', m }),
    warn: (m) => out({ ev: 'log', level: 'warn', m }),
    error: (m) => out({ ev: 'log', level: 'error', m }),
    debug: withDebug ? (m) => out({ ev: 'log', level: 'debug', m }) : () => {},
  };
}

/** A supervisor that starts `installDir`'s launcher through pkexec, 500 ms windows, no restarts. */
export function installedSupervisor(installDir: string, log: Logger): HelperSupervisor {
  return new HelperSupervisor({
    helperArgs: ['--interval-ms', '500'],
    devHelperPath: '/nonexistent/helper.js', // never used: the driver is not root
    installDir,
    log,
    maxRestarts: 0,
  });
}
