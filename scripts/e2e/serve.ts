// `npm start`: serves the sample workspace in code-server with the freshly packaged Hotspot installed, in the
// foreground until Ctrl-C. Usage: node --import tsx scripts/e2e/serve.ts <vsix> [port]
import { mkdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { installExtension, makeProfile, ROOT, startCodeServer } from './codeServer';

const [vsix, portArg] = process.argv.slice(2);
const port = Number(portArg || process.env.PORT || 8080);
const workspace = path.join(ROOT, 'test/e2e/workspace');
const extensionsDir = path.join(ROOT, '.e2e-tools/start/extensions');

async function main(): Promise<void> {
  if (!vsix) throw new Error('usage: serve.ts <vsix> [port]');
  // A dedicated extensions dir holding only this build of Hotspot.
  rmSync(extensionsDir, { recursive: true, force: true });
  mkdirSync(extensionsDir, { recursive: true });
  const profile = makeProfile(
    { 'hotspot.configPath': path.join(workspace, 'hotspot.yaml'), 'hotspot.measurementWindow': 1000 },
    extensionsDir,
  );
  process.stderr.write(installExtension(profile, vsix));
  const cs = await startCodeServer({
    profile,
    port,
    logFile: path.join(ROOT, '.e2e-tools/start/code-server.log'),
  });
  const url = `${cs.origin}/?folder=${encodeURIComponent(workspace)}`;
  console.log(`\nHotspot is running in VS Code (code-server) at:\n\n  ${url}\n`);
  console.log('Open the Hotspot view in the activity bar and run "Hotspot: Start" from the Command Palette.');
  if (process.getuid?.() !== 0)
    console.log('Not root: run "Hotspot: Install Helper" once (it asks for your password through polkit).');
  console.log(
    'Try the workloads in a terminal there: `yes > /dev/null` (CPU-bound), `python3 leak.py` (OOM risk).',
  );
  console.log(`Server log: ${path.join(ROOT, '.e2e-tools/start/code-server.log')}. Ctrl-C stops everything.`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping code-server …');
    await cs.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  cs.child.on('exit', (code) => {
    if (!stopping) {
      console.error(`code-server exited unexpectedly (code ${code}); see the server log.`);
      process.exit(1);
    }
  });
}

main().catch((e) => {
  console.error(`npm start failed: ${(e as Error).message}`);
  process.exit(1);
});
