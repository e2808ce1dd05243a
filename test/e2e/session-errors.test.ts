import {createServer, type Server} from 'node:net';
import {mkdir, readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';

import {execa} from 'execa';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';

import {TEST_BASE_IMAGE} from '../helpers/constants.js';
import {createSandbox, type Sandbox} from '../helpers/sandbox.js';

let sandbox: Sandbox;
beforeAll(() => {
  sandbox = createSandbox({portStart: 32_100, portCount: 20});
});
afterAll(async () => {
  await sandbox.cleanup();
});

/** Nothing left behind: no container with this instance's label, no record, no key file. */
async function expectNothingLeft(): Promise<void> {
  expect(await sandbox.containers()).toEqual([]);
  expect(await sandbox.keyFiles()).toEqual([]);
  const state = await readFile(sandbox.stateFile, 'utf8').catch(() => '{"sessions": []}');
  expect(JSON.parse(state).sessions).toEqual([]);
}

afterEach(async () => {
  await expectNothingLeft();
});

/** A throw-away image on the test base with another entrypoint, to make a create fail on purpose. */
async function tinyImage(tag: string, entrypoint: string): Promise<string> {
  await execa('docker', ['build', '-q', '-t', tag, '-'], {
    input: `FROM ${TEST_BASE_IMAGE}\nENTRYPOINT ${entrypoint}\n`,
  });
  return tag;
}

async function expectError(
  args: string[],
  exitCode: number,
  code: string,
  message: RegExp,
  env?: Record<string, string>,
) {
  const result = await sandbox.json<{error: {code: string; message: string; exit_code: number}}>(args, {env});
  expect(result.exitCode).toBe(exitCode);
  expect(result.body.error).toMatchObject({code, exit_code: exitCode});
  expect(result.body.error.message).toMatch(message);
  // Human form: the same message on stderr, nothing on stdout.
  const human = await sandbox.run(args, {env});
  expect(human.exitCode).toBe(exitCode);
  expect(human.stdout).toBe('');
  expect(human.stderr).toMatch(/^Error: /);
  return result.body.error;
}

describe('session create refuses bad input with exit 2 and creates nothing', () => {
  it.each([
    ['Alice', /invalid user name "Alice"/],
    ['../etc', /invalid user name "..\/etc"/],
    ['a'.repeat(33), /invalid user name/],
    ['root', /reserved/],
    ['systemd-coredump', /reserved/],
  ])('user %j', async (user, message) => {
    await expectError(['session', 'create', user, '--no-gpu'], 2, 'INVALID_INPUT', message);
  });

  it.each(['0', '-5', 'soon', '1x', '8d'])('TTL %j', async (ttl) => {
    await expectError(['session', 'create', 'ttluser', '--no-gpu', '--ttl', ttl], 2, 'INVALID_INPUT', /TTL/);
  });

  it('two GPU choices at once', async () => {
    await expectError(
      ['session', 'create', 'gpuuser', '--no-gpu', '--profile', '1g.10gb'],
      2,
      'INVALID_INPUT',
      /--profile|--no-gpu/,
    );
  });

  it('an unknown flag and a missing user', async () => {
    await expectError(['session', 'create', 'x', '--bogus'], 2, 'INVALID_INPUT', /bogus/);
    await expectError(['session', 'create'], 2, 'INVALID_INPUT', /user/i);
  });

  it('a private key given as --ssh-key', async () => {
    const file = path.join(sandbox.dir, 'id_private');
    await writeFile(file, '-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n');
    await expectError(
      ['session', 'create', 'keyuser', '--no-gpu', '--ssh-key', file],
      2,
      'INVALID_INPUT',
      /PRIVATE key/,
    );
    await expectError(
      ['session', 'create', 'keyuser', '--no-gpu', '--ssh-key', '/nonexistent.pub'],
      2,
      'INVALID_INPUT',
      /cannot read --ssh-key/,
    );
  });

  it('an --env value with a newline, and a bad --env name', async () => {
    await expectError(
      ['session', 'create', 'envuser', '--no-gpu', '--env', 'A=1\n2'],
      2,
      'INVALID_INPUT',
      /single line/,
    );
    await expectError(
      ['session', 'create', 'envuser', '--no-gpu', '--env', '1A=x'],
      2,
      'INVALID_INPUT',
      /KEY=VALUE/,
    );
  });

  it('a reversed port range, naming the setting and its source', async () => {
    await expectError(
      ['session', 'create', 'portuser', '--no-gpu', '--ssh-port-start', '40000', '--ssh-port-end', '39000'],
      2,
      'INVALID_INPUT',
      /sshPortStart.*flag --ssh-port-start/,
    );
    await expectError(
      ['session', 'create', 'portuser', '--no-gpu'],
      2,
      'INVALID_INPUT',
      /SANDMAN_SSH_PORT_START/,
      {SANDMAN_SSH_PORT_START: '22'},
    );
  });
});

describe('session create failures that reserve nothing, or release what they reserved', () => {
  it('a second session for the same user: exit 4 naming the existing session', async () => {
    const first = await sandbox.json<{session_id: string}>([
      'session',
      'create',
      'twice',
      '--no-gpu',
      '--no-wait',
    ]);
    expect(first.exitCode).toBe(0);
    const error = await expectError(
      ['session', 'create', 'twice', '--no-gpu'],
      4,
      'CONFLICT',
      new RegExp(first.body.session_id),
    );
    expect(error.message).toContain('twice');
    expect(await sandbox.containers()).toHaveLength(1);
    expect((await sandbox.run(['session', 'rm', 'twice'])).exitCode).toBe(0);
  });

  it('the image is missing: exit 6', async () => {
    await expectError(
      ['session', 'create', 'imguser', '--no-gpu', '--image', 'sandman-test/nope:missing'],
      6,
      'DEPENDENCY_UNAVAILABLE',
      /image sandman-test\/nope:missing not found.*sandman image build/,
    );
  });

  it('the Docker engine is unreachable: exit 6, state byte-for-byte unchanged', async () => {
    const dead = {DOCKER_HOST: 'unix:///nonexistent/docker.sock'};
    await expectError(
      ['session', 'create', 'dockeruser', '--no-gpu'],
      6,
      'DEPENDENCY_UNAVAILABLE',
      /Docker engine unreachable at unix:\/\/\/nonexistent\/docker.sock/,
      dead,
    );

    const created = await sandbox.json<{session_id: string}>([
      'session',
      'create',
      'dockeruser',
      '--no-gpu',
      '--no-wait',
    ]);
    expect(created.exitCode).toBe(0);
    const before = await readFile(sandbox.stateFile, 'utf8');
    await expectError(
      ['session', 'rm', 'dockeruser'],
      6,
      'DEPENDENCY_UNAVAILABLE',
      /Docker engine unreachable/,
      dead,
    );
    expect(await readFile(sandbox.stateFile, 'utf8')).toBe(before);
    expect(await sandbox.containers()).toHaveLength(1);
    expect((await sandbox.run(['session', 'rm', 'dockeruser'])).exitCode).toBe(0);
  });

  it('no free port: exit 5 when everything in the range is taken by other processes', async () => {
    const servers: Server[] = [];
    try {
      for (const port of [33_000, 33_001]) {
        const server = createServer();
        await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
        servers.push(server);
      }
      await expectError(
        ['session', 'create', 'portless', '--no-gpu'],
        5,
        'CAPACITY',
        /no free SSH port in 33000-33001/,
        {
          SANDMAN_SSH_PORT_START: '33000',
          SANDMAN_SSH_PORT_END: '33001',
        },
      );
    } finally {
      for (const server of servers) server.close();
    }
  });

  it('a port taken by another process is skipped, not fatal', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(33_010, '127.0.0.1', resolve));
    try {
      const created = await sandbox.json<{ssh_port: number}>(
        ['session', 'create', 'skipper', '--no-gpu', '--no-wait'],
        {
          env: {SANDMAN_SSH_PORT_START: '33010', SANDMAN_SSH_PORT_END: '33012'},
        },
      );
      expect(created.exitCode).toBe(0);
      expect(created.body.ssh_port).toBe(33_011);
    } finally {
      server.close();
    }
    expect((await sandbox.run(['session', 'rm', 'skipper'])).exitCode).toBe(0);
  });

  it('the container never answers SSH: exit 1 after readyTimeout, everything released', async () => {
    const image = await tinyImage('sandman-test/silent:latest', '["sleep", "infinity"]');
    const started = Date.now();
    const result = await sandbox.json<{error: {message: string}}>(
      ['session', 'create', 'silent', '--no-gpu', '--image', image],
      {
        env: {SANDMAN_READY_TIMEOUT: '3s'},
      },
    );
    expect(result.exitCode).toBe(1);
    expect(result.body.error.message).toMatch(/SSH on port \d+ did not answer within 3s/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
  });

  it('the container exits before SSH is up: exit 1 with its output, everything released', async () => {
    const image = await tinyImage(
      'sandman-test/crashing:latest',
      '["sh", "-c", "echo entrypoint broke >&2; exit 3"]',
    );
    const result = await sandbox.json<{error: {message: string}}>([
      'session',
      'create',
      'crashy',
      '--no-gpu',
      '--image',
      image,
    ]);
    expect(result.exitCode).toBe(1);
    expect(result.body.error.message).toMatch(
      /(exited with code 3|keeps exiting \(restarted \d+ times\)) before SSH was ready.*entrypoint broke/,
    );
  });

  it('an image not built by sandman (no command at all): exit 6 saying how to build it, everything released', async () => {
    const result = await sandbox.json<{error: {message: string}}>([
      'session',
      'create',
      'nocmd',
      '--no-gpu',
      '--image',
      TEST_BASE_IMAGE,
    ]);
    expect(result.exitCode).toBe(6);
    expect(result.body.error.message).toBe(
      `image ${TEST_BASE_IMAGE} has no command: it was not built with "sandman image build", so it lacks the ` +
        `sandman entrypoint and SSH server; build it with "sandman image build --base ${TEST_BASE_IMAGE} --tag ` +
        `sandman/workspace:latest" and use that tag (docs/admin/troubleshooting.md)`,
    );
  });

  it('rm of a known and an unknown session: {removed, errors}, the known one removed, exit 3', async () => {
    const created = await sandbox.json<{session_id: string}>([
      'session',
      'create',
      'partial',
      '--no-gpu',
      '--no-wait',
    ]);
    expect(created.exitCode).toBe(0);
    const result = await sandbox.json<{
      removed: Array<{session_id: string}>;
      errors: Array<{reference: string; code: string; exit_code: number; message: string}>;
    }>(['session', 'rm', 'nobody', 'partial']);
    expect(result.exitCode).toBe(3);
    expect(result.body.removed.map((session) => session.session_id)).toEqual([created.body.session_id]);
    expect(result.body.errors).toEqual([
      {
        reference: 'nobody',
        code: 'NOT_FOUND',
        exit_code: 3,
        message: 'no session with ID or user "nobody" (see "sandman session ls")',
      },
    ]);
    const human = await sandbox.run(['session', 'rm', 'ghost']);
    expect(human.exitCode).toBe(3);
    expect(human.stderr).toBe('Error: no session with ID or user "ghost" (see "sandman session ls")');
  });

  it('a corrupt state file: exit 7 naming the file, left byte-for-byte unchanged', async () => {
    const other = createSandbox({portStart: 33_020, portCount: 5});
    try {
      await mkdir(path.dirname(other.stateFile), {recursive: true});
      const garbage = '{"version": 1, "sessions": [ {"id": "abc"';
      await writeFile(other.stateFile, garbage);
      for (const args of [
        ['session', 'create', 'corrupt', '--no-gpu'],
        ['session', 'ls'],
        ['session', 'show', 'corrupt'],
        ['session', 'rm', 'corrupt'],
        ['session', 'extend', 'corrupt', '--ttl', '1h'],
      ]) {
        const result = await other.json<{error: {code: string; message: string}}>(args);
        expect(result.exitCode, args.join(' ')).toBe(7);
        expect(result.body.error.code).toBe('STATE_UNAVAILABLE');
        expect(result.body.error.message).toContain(other.stateFile);
        expect(result.body.error.message).toContain('sandman doctor');
      }
      expect(await readFile(other.stateFile, 'utf8')).toBe(garbage);
      expect(await other.containers()).toEqual([]);
    } finally {
      await other.cleanup();
    }
  });
});

describe('commands on sessions that do not exist', () => {
  it('show, extend and rm answer exit 3', async () => {
    await expectError(['session', 'show', 'ghost'], 3, 'NOT_FOUND', /ghost/);
    await expectError(['session', 'extend', 'ghost', '--ttl', '1h'], 3, 'NOT_FOUND', /ghost/);
    // rm keeps its one shape, {removed, errors}, and exits with the error's code.
    const rm = await sandbox.json<{removed: unknown[]; errors: Array<{code: string; message: string}>}>([
      'session',
      'rm',
      'ghost',
    ]);
    expect(rm.exitCode).toBe(3);
    expect(rm.body.removed).toEqual([]);
    expect(rm.body.errors).toEqual([
      expect.objectContaining({code: 'NOT_FOUND', message: expect.stringMatching(/ghost/)}),
    ]);
  });
});
