import {readFile, stat, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';

import {execa, type ResultPromise} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {generateKeyPair} from '../../src/ssh/ssh-keys.js';
import {fakeGpuEnv} from '../helpers/fake-gpu.js';
import {socketActivatedApi, stopActivator} from '../helpers/socket-activated-api.js';
import {createSandbox, sshRun, type Sandbox} from '../helpers/sandbox.js';
import {editState, readState, sessionOf} from '../helpers/state-file.js';

/**
 * What the admin sees of people and their requests: `sandman ssh` into the session of a user
 * registered with only her own key (docs/admin/gateway.md), and a queued request shown by `session
 * show` and the API like a session (docs/admin/users-and-limits.md "Users and limits").
 */
let sandbox: Sandbox;
let gpu: Record<string, string>;
let socket: string;
let api: ResultPromise;
beforeAll(() => {
  sandbox = createSandbox({portStart: 36_460, portCount: 40});
  gpu = fakeGpuEnv(sandbox.dir, 'a100-mig-r580');
  socket = path.join(sandbox.dir, 'api.sock');
  api = socketActivatedApi(socket, {...sandbox.env, ...gpu, SANDMAN_API_IDLE_TIMEOUT: '2s'});
});
afterAll(async () => {
  await stopActivator(api);
  await sandbox.cleanup();
});

interface SshAnswer {
  exit_code: number;
  stdout: string;
  stderr: string;
}

describe('sandman ssh', () => {
  it('logs in to the session of a user registered with only her own key, and is told how to fix an older session', async () => {
    const own = generateKeyPair('alice@laptop');
    const ownFile = path.join(sandbox.dir, 'alice');
    await writeFile(ownFile, own.privateKey, {mode: 0o600});
    await writeFile(`${ownFile}.pub`, own.publicKey + '\n');
    expect((await sandbox.run(['user', 'add', 'alice', '--ssh-key', `${ownFile}.pub`])).exitCode).toBe(0);
    const created = await sandbox.json<{session_id: string; ssh_port: number; ssh_private_key: null}>([
      'session',
      'create',
      'alice',
      '--no-gpu',
    ]);
    expect(created.exitCode, created.stderr).toBe(0);
    expect(created.body.ssh_private_key).toBeNull();
    const id = created.body.session_id;

    expect((await sandbox.run(['ssh', 'alice', '--', 'true'])).exitCode).toBe(0);
    // --json before the remote command: what follows `--` is the command's.
    const who = await sandbox.run(['ssh', 'alice', '--json', '--', 'id', '-un']);
    expect(JSON.parse(who.stdout) as SshAnswer).toEqual({exit_code: 0, stdout: 'alice\n', stderr: ''});
    // Her own key still opens it; sandman's key is root's only.
    expect((await sshRun(ownFile, created.body.ssh_port, 'alice', 'id -un')).stdout.trim()).toBe('alice');
    const relayKey = path.join(sandbox.dir, 'state', 'gateway', 'relay_ed25519');
    expect((await stat(relayKey)).mode & 0o777).toBe(0o600);

    // A session an earlier sandman made: its keys have no line for sandman's own key.
    const files = path.join(sandbox.keysDir, `${id}.session`, 'authorized_keys');
    const keys = await readFile(files, 'utf8');
    await writeFile(
      files,
      keys
        .split('\n')
        .filter((line) => !line.includes('sandman-gateway'))
        .join('\n'),
    );
    await editState(sandbox.stateFile, (state) => {
      delete sessionOf(state, 'alice')!.gateway_key;
    });
    const older = await sandbox.run(['ssh', 'alice', '--', 'true']);
    expect(older.exitCode).toBe(1);
    expect(older.stderr).toContain(
      `"sandman session extend ${id} --ttl 1m" (or a stop and start) gives it the key`,
    );
    expect((await sandbox.run(['session', 'extend', 'alice', '--ttl', '1m'])).exitCode).toBe(0);
    expect((await sandbox.run(['ssh', 'alice', '--', 'true'])).exitCode).toBe(0);

    // Removing the session leaves none of its key files; sandman's own key is not the session's.
    expect((await sandbox.run(['session', 'rm', 'alice'])).exitCode).toBe(0);
    expect((await sandbox.keyFiles()).filter((name) => name.startsWith(id))).toEqual([]);
  });
});

describe('a queued request', () => {
  it('session show and GET /sessions/ID find it by ID and by user, with a session’s field names', async () => {
    // a100-mig-r580 has one 1g.5gb device: carol takes it, dave waits for it.
    const running = await sandbox.json(['session', 'create', 'carol', '--profile', '1g.5gb', '--no-wait'], {
      env: gpu,
    });
    expect(running.exitCode, running.stderr).toBe(0);
    const queued = await sandbox.json<{session_id: string; status: string}>(
      ['session', 'create', 'dave', '--profile', '1g.5gb', '--queue', '--no-wait'],
      {env: gpu},
    );
    expect(queued.body.status).toBe('queued');
    const id = queued.body.session_id;
    const view = {
      session_id: id,
      ssh_user: 'dave',
      status: 'queued',
      queue_position: 1,
      waiting_for: expect.stringContaining('1g.5gb'),
    };
    for (const reference of [id, 'dave'])
      expect(await sandbox.json(['session', 'show', reference])).toMatchObject({exitCode: 0, body: view});
    const human = await sandbox.run(['session', 'show', 'dave']);
    expect(human.exitCode).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`^ID: +${id}$`, 'm'));
    expect(human.stdout).toMatch(/^Status: +queued: 1st in line for .*1g\.5gb/m);

    // The API: the same names for the ID and the user as its sessions have.
    const get = async (url: string) =>
      JSON.parse(String((await execa('curl', ['-s', '--unix-socket', socket, url])).stdout)) as unknown;
    let listed = (await get('http://x/sessions')) as Array<Record<string, unknown>>;
    for (let attempt = 0; attempt < 50 && !Array.isArray(listed); attempt++) {
      await sleep(100);
      listed = (await get('http://x/sessions')) as Array<Record<string, unknown>>;
    }
    expect(listed.map((entry) => [entry.id, entry.user_id, entry.status])).toEqual([
      [running.body.session_id, 'carol', 'running'],
      [id, 'dave', 'queued'],
    ]);
    for (const reference of [id, 'dave'])
      expect(await get(`http://x/sessions/${reference}`)).toMatchObject({id, user_id: 'dave', ...view});

    expect((await sandbox.run(['session', 'rm', 'dave', 'carol'])).exitCode).toBe(0);
    expect((await readState(sandbox.stateFile)).queue ?? []).toEqual([]);
  });
});
