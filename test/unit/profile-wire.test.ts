// Profile requests reach a root helper: anything but a well-formed request of this version is refused with a
// message naming what is wrong, and nothing in a request reaches Object.prototype. Results are validated too.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRequest, RequestError } from '../../src/shared/wire/profile';
import { ProtocolError, parseLine } from '../../src/shared/wire/protocol';

const good = { v: 1, type: 'profile', id: 'r1', pid: 42, durationMs: 10_000, frequency: 99 };
const line = (o: object) => JSON.stringify(o);

test('a well-formed request is read, and a cancel', () => {
  assert.deepEqual(parseRequest(line(good)), good);
  assert.deepEqual(parseRequest('{"v":1,"type":"cancel","id":"r1"}'), { v: 1, type: 'cancel', id: 'r1' });
});

test('bounds, types, versions and keys are checked; the id is echoed when it could be read', () => {
  const cases: [object | string, RegExp][] = [
    [{ ...good, durationMs: 999 }, /durationMs must be an integer in 1000\.\.60000/],
    [{ ...good, durationMs: 60_001 }, /durationMs/],
    [{ ...good, frequency: 0 }, /frequency must be an integer in 1\.\.999/],
    [{ ...good, frequency: 1000 }, /frequency/],
    [{ ...good, frequency: 9.5 }, /frequency/],
    [{ ...good, pid: '42' }, /pid must be an integer/],
    [{ ...good, pid: 0 }, /pid/],
    [{ ...good, v: 2 }, /request version must be 1/],
    [{ ...good, type: 'exec' }, /request type must be "profile" or "cancel"/],
    [{ ...good, extra: true }, /unknown key "extra"/],
    [{ ...good, id: 'a b' }, /id must be/],
    ['[1,2]', /must be a JSON object/],
    ['nope', /not JSON/],
    ['x'.repeat(2000), /longer than 1024 bytes/],
  ];
  for (const [input, message] of cases) {
    const text = typeof input === 'string' ? input : line(input);
    assert.throws(
      () => parseRequest(text),
      (e: unknown) => e instanceof RequestError && message.test(e.message),
      text,
    );
  }
  try {
    parseRequest(line({ ...good, frequency: 5000 }));
  } catch (e) {
    assert.equal((e as RequestError).id, 'r1');
  }
});

test('__proto__ and constructor keys are refused and pollute nothing', () => {
  for (const text of [
    '{"v":1,"type":"profile","id":"p","pid":1,"durationMs":1000,"frequency":99,"__proto__":{"polluted":1}}',
    '{"v":1,"type":"profile","id":"p","pid":1,"durationMs":1000,"frequency":99,"constructor":{"prototype":{"polluted":1}}}',
  ])
    assert.throws(() => parseRequest(text), /unknown key/);
  assert.equal(({} as { polluted?: number }).polluted, undefined);
});

test('a profile result is validated as a protocol message; names lose control characters', () => {
  const result = {
    type: 'profile',
    v: 3,
    id: 'r1',
    pid: 42,
    frequency: 99,
    startedAt: 1,
    durationMs: 1000,
    samples: 3,
    lost: 0,
    omitted: 0,
    ended: 'duration',
    kernelSymbols: true,
    threads: [{ tid: 42, comm: 'a\u001b[31mb', samples: 3 }],
    stacks: [{ tid: 42, user: [4096, 8192], kernel: ['do_syscall_64'], count: 3 }],
  };
  const m = parseLine(line(result));
  assert.equal(m.type, 'profile');
  assert.ok(!JSON.stringify(m).includes(String.fromCharCode(27)));
  assert.throws(() => parseLine(line({ ...result, ended: 'later' })), ProtocolError);
  assert.throws(
    () => parseLine(line({ ...result, stacks: [{ tid: 1, user: [-1], kernel: [], count: 1 }] })),
    ProtocolError,
  );
  const err = parseLine(
    line({ type: 'error', v: 3, code: 'PROFILE', message: 'no', fatal: false, id: 'r1' }),
  );
  assert.equal((err as { id?: string }).id, 'r1');
});
