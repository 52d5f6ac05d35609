// Naming processes by what they run: the script of an interpreter, the executable otherwise.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandLines, commandLineText, readArgv, scriptName } from '../../src/extension/commandLine';

test('interpreters are named by their script, module or jar; options and their values are skipped', () => {
  assert.equal(
    scriptName(['/usr/bin/node', '--inspect', '-r', 'ts-node/register', 'src/server.js', '--port', '80']),
    'server.js',
  );
  assert.equal(scriptName(['python3', '-u', '/w/leak.py']), 'leak.py');
  assert.equal(scriptName(['python3', '-m', 'http.server', '8000']), '-m http.server');
  assert.equal(scriptName(['java', '-Xmx1g', '-jar', '/opt/app/app.jar']), 'app.jar');
  assert.equal(scriptName(['node']), 'node');
  assert.equal(scriptName(['/usr/bin/yes']), 'yes');
  assert.equal(scriptName(['/usr/lib/chromium/chromium', '--type=renderer']), 'chromium --type=renderer');
  assert.equal(scriptName([]), '');
});

test('command line text quotes arguments with spaces', () => {
  assert.equal(commandLineText(['sh', '-c', 'exec yes']), 'sh -c "exec yes"');
});

test('the command line of a live process is read from /proc, and cached per pid and name', () => {
  const argv = readArgv(process.pid);
  assert.ok(argv && argv.length >= 1, 'own cmdline readable');
  assert.ok(argv?.[0]?.includes('node'), `argv[0] is node: ${argv?.[0]}`);
  const c = new CommandLines();
  assert.deepEqual(c.argv(process.pid, 'node'), argv);
  assert.equal(readArgv(2 ** 22 + 7), undefined, 'a pid that does not exist');
});
