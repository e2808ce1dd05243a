import {writeFile} from 'node:fs/promises';
import path from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';

import {execa} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {ROOT, TEST_IMAGE} from '../helpers/constants.js';
import {createSandbox, strictHostKeyOptions, type Sandbox} from '../helpers/sandbox.js';

/**
 * A dockerd restart (as an upgrade or a crash does it) brings every session back. It runs on an
 * engine of the tests' own (test/engines/engine.sh: a dockerd in its own network namespace), so
 * the machine's engine, which the other test files use, is not disturbed.
 */
const ENGINE = path.join(ROOT, 'test', 'engines', 'engine.sh');
const NAME = 'restart';
const ADDRESS = '10.250.7.2';

let sandbox: Sandbox;
beforeAll(async () => {
  const up = await execa('bash', [ENGINE, 'up', NAME, '7', TEST_IMAGE]);
  sandbox = createSandbox({
    portStart: 33_500,
    portCount: 10,
    host: {netns: `sandman-${NAME}`, dockerHost: up.stdout.trim(), address: ADDRESS},
  });
});
afterAll(async () => {
  await sandbox?.cleanup();
  await execa('bash', [ENGINE, 'down', NAME], {reject: false});
});

describe('a dockerd restart', () => {
  it('brings every session back on its port, with its key and host identity', async () => {
    const knownHosts = path.join(sandbox.dir, 'known_hosts');
    await writeFile(knownHosts, (await sandbox.run(['known-hosts'])).stdout);
    const sessions: Array<{user: string; key: string; port: number}> = [];
    for (const user of ['alice', 'bob']) {
      const created = await sandbox.json<{ssh_private_key_path: string; ssh_port: number}>([
        'session',
        'create',
        user,
        '--no-gpu',
      ]);
      expect(created.exitCode, JSON.stringify(created.body)).toBe(0);
      sessions.push({user, key: created.body.ssh_private_key_path, port: created.body.ssh_port});
    }
    // From this machine to the engine's host, checking host keys against the CA line alone.
    const login = (session: (typeof sessions)[number]) =>
      execa(
        'ssh',
        [
          ...strictHostKeyOptions(knownHosts),
          '-o',
          'ConnectTimeout=3',
          '-i',
          session.key,
          '-p',
          String(session.port),
          `${session.user}@${ADDRESS}`,
          'id -un',
        ],
        {reject: false, stdin: 'ignore'},
      );
    for (const session of sessions) expect((await login(session)).stdout).toBe(session.user);

    await execa('bash', [ENGINE, 'restart', NAME]);
    for (const session of sessions) {
      const started = Date.now();
      let result = await login(session);
      while (result.exitCode !== 0 && Date.now() - started < 20_000) {
        await sleep(250);
        result = await login(session);
      }
      expect(result.exitCode, String(result.stderr)).toBe(0);
      expect(result.stdout).toBe(session.user);
    }
    const listed = await sandbox.json<Array<{status: string}>>(['session', 'ls']);
    expect(listed.body.map((session) => session.status)).toEqual(['running', 'running']);
    expect((await sandbox.json<{items: unknown[]}>(['reap'])).body.items).toEqual([]);
  });
});
