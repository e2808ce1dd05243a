import {readFile, writeFile} from 'node:fs/promises';
import {request} from 'node:http';
import path from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';

import {execa, type ResultPromise} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {TEST_IMAGE} from '../helpers/constants.js';
import {fakeGpuEnv} from '../helpers/fake-gpu.js';
import {GatewayUnderTest, gatewaySsh} from '../helpers/gateway.js';
import {markedExample, runExample} from '../helpers/doc-examples.js';
import {networkGateway, startSelfServe} from '../helpers/self-serve-listener.js';
import {addUsersWithKeys} from '../helpers/user-keys.js';
import {createSandbox, strictHostKeyOptions, type Sandbox} from '../helpers/sandbox.js';
import {editState, PAST, readState} from '../helpers/state-file.js';

/**
 * The researcher's own sandman inside her session (docs/admin/sessions.md "The in-session command"), as she uses it: the `sandman` client in the real image, over the real OpenSSH client
 * (her session's own port and the gateway under systemd socket activation), answered by
 * `sandman self-serve` under real systemd-socket-activate on the sessions network's gateway
 * address, behind sandman's real iptables rules.
 */
const GATEWAY_PORT = 36_845;
const SELF_PORT = 36_846;
const PROFILE = '1c.2g.10gb';

interface View {
  session_id: string;
  container_id: string;
  ssh_port: number;
  status: string;
  expires_at: string;
  gpu_uuid: string | null;
  keep_until: string | null;
  last_extended_by: string | null;
}

let sandbox: Sandbox;
let gateway: GatewayUnderTest;
let listener: ResultPromise | undefined;
const listenerOutput: string[] = [];
let keys: string;
let knownHosts: string;
let gatewayAddress: string;
let alice: View;
let bob: View;
const key = (name: string) => path.join(keys, name);

/** A command in the user's session, through its own published port. */
const inSession = async (user: string, session: View, command: string) => {
  const result = await execa(
    'ssh',
    [
      ...strictHostKeyOptions(knownHosts),
      '-o',
      'LogLevel=ERROR',
      '-i',
      key(user),
      '-p',
      String(session.ssh_port),
      `${user}@127.0.0.1`,
      command,
    ],
    {reject: false, stdin: 'ignore', timeout: 60_000},
  );
  return {exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr)};
};
const record = async (id: string) => (await readState(sandbox.stateFile)).sessions.find((s) => s.id === id);
const auditLines = async () =>
  (await readFile(sandbox.env.SANDMAN_AUDIT_LOG!, 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map(
      (line) => JSON.parse(line) as {actor: string; action: string; session: string | null; result: string},
    );
const create = async (user: string, gpu: string[]) => {
  const made = await sandbox.json<View>(['session', 'create', user, ...gpu, '--ttl', '1h']);
  expect(made.exitCode, JSON.stringify(made.body) + made.stderr).toBe(0);
  return made.body;
};
/** The listener's own URL for a session, as its client finds it. */
const urlOf = (id: string) => `http://${gatewayAddress}:${SELF_PORT}/s/${id}/run`;
/** The in-session client with its URL (or credential) swapped: what a user could do by hand. */
const tampered = (sed: string, args: string) =>
  `sed '${sed}' /usr/local/bin/sandman > /tmp/tampered && sh /tmp/tampered ${args}`;

beforeAll(async () => {
  sandbox = createSandbox({portStart: 36_800, portCount: 40, config: {selfServicePort: SELF_PORT}});
  Object.assign(sandbox.env, fakeGpuEnv(sandbox.dir, 'a100-mig-r580'), {SANDMAN_API_IDLE_TIMEOUT: '10m'});
  ({keys, knownHosts} = await addUsersWithKeys(sandbox, [
    ['alice', ['--max-ttl', '4h']],
    ['bob', []],
  ]));
  alice = await create('alice', ['--profile', PROFILE]);
  bob = await create('bob', ['--no-gpu']);
  gatewayAddress = await networkGateway(sandbox);
  listener = (await startSelfServe(sandbox, gatewayAddress, SELF_PORT, listenerOutput)).listener;
  gateway = await GatewayUnderTest.start(sandbox, GATEWAY_PORT);
}, 240_000);
afterAll(async () => {
  listener?.kill('SIGTERM');
  await listener;
  await gateway?.stop();
  await sandbox?.cleanup();
});

describe('sandman inside a session', () => {
  it('status --json through her own port and the gateway: her session, time left within a second of the record', async () => {
    const before = Date.now();
    const shown = await inSession('alice', alice, 'sandman status --json');
    const after = Date.now();
    expect(shown.exitCode, shown.stderr + listenerOutput.join('')).toBe(0);
    const status = JSON.parse(shown.stdout) as {
      session_id: string;
      user: string;
      expires_at: string;
      time_left_seconds: number;
      gpu: {profile: string; uuid: string};
      idle: {verdict: string};
    };
    const stored = (await record(alice.session_id))!;
    expect(status).toMatchObject({
      session_id: alice.session_id,
      user: 'alice',
      expires_at: stored.expires_at,
      gpu: {profile: PROFILE, uuid: stored.gpu_uuid},
    });
    const left = Date.parse(stored.expires_at);
    expect(status.time_left_seconds).toBeGreaterThanOrEqual(Math.floor((left - after) / 1000) - 1);
    expect(status.time_left_seconds).toBeLessThanOrEqual(Math.ceil((left - before) / 1000) + 1);

    const viaGateway = await gatewaySsh(GATEWAY_PORT, 'alice', 'sandman status', {
      key: key('alice'),
      knownHosts,
    });
    expect(viaGateway.exitCode, viaGateway.stderr + gateway.log()).toBe(0);
    expect(viaGateway.stdout).toContain(`Session:   ${alice.session_id} (alice), running`);
    expect(viaGateway.stdout).toMatch(/^Expires: +\d{4}-\d\d-\d\d \d\d:\d\d UTC \(\d+m left\)$/m);
    expect((await auditLines()).filter((line) => line.action === 'self')).toContainEqual(
      expect.objectContaining({actor: `alice (session ${alice.session_id})`, result: 'ok'}),
    );

    // From a laptop account, with the Host block `ssh-config --gateway` prints.
    const config = await sandbox.run(
      ['ssh-config', 'alice', '--gateway', '--identity-file', key('alice'), '--known-hosts-file', knownHosts],
      {env: {SANDMAN_GATEWAY_PORT: String(GATEWAY_PORT)}},
    );
    expect(config.exitCode, config.stderr).toBe(0);
    const configFile = path.join(sandbox.dir, 'laptop_ssh_config');
    await writeFile(configFile, config.stdout + '\n');
    const laptop = await execa(
      'ssh',
      ['-F', configFile, '-o', 'BatchMode=yes', 'sandman-alice', 'sandman status'],
      {
        reject: false,
        stdin: 'ignore',
      },
    );
    expect(laptop.exitCode, laptop.stderr).toBe(0);
    expect(laptop.stdout).toContain(`Session:   ${alice.session_id} (alice), running`);

    // The researcher guide's example (docs/user/inside-your-session.md), as written, in her session.
    const lines = (await markedExample('in-session', 'docs/user/inside-your-session.md')).lines.filter(
      (line) => line !== '',
    );
    expect(lines.length).toBeGreaterThan(4);
    await runExample(lines, (command) => inSession('alice', alice, command));

    // Without curl: bash's /dev/tcp, the same answers and exit codes.
    const bashOnly = await inSession('alice', alice, tampered('s/command -v curl/false/', 'status --json'));
    expect(bashOnly.exitCode, bashOnly.stderr).toBe(0);
    expect(JSON.parse(bashOnly.stdout)).toMatchObject({session_id: alice.session_id, user: 'alice'});
    const bashRefused = await inSession('alice', alice, tampered('s/command -v curl/false/', 'keep 99h'));
    expect(bashRefused.exitCode).toBe(8);
    expect(bashRefused.stderr).toContain('userMaxKeep');

    const help = await inSession('alice', alice, 'sandman --help');
    for (const command of ['status', 'extend', 'keep', 'stop', 'web'])
      expect(help.stdout).toContain(`sandman ${command}`);
  });

  it('systemd install --self-serve writes a socket on the sessions network gateway and a service that pass systemd-analyze verify', async () => {
    const dir = path.join(sandbox.dir, 'units');
    const installed = await sandbox.json<{files: string[]}>([
      'systemd',
      'install',
      '--self-serve',
      '--dir',
      dir,
    ]);
    expect(installed.exitCode).toBe(0);
    expect(installed.body.files.map((file) => path.basename(file)).sort()).toEqual([
      'sandman-self.service',
      'sandman-self.socket',
    ]);
    const socket = await readFile(path.join(dir, 'sandman-self.socket'), 'utf8');
    expect(socket).toContain(`\nListenStream=${gatewayAddress}:${SELF_PORT}\n`);
    expect(socket).toMatch(/^Accept=no$/m);
    expect(await readFile(path.join(dir, 'sandman-self.service'), 'utf8')).toMatch(
      /^ExecStart=\S+ \S+run\.js self-serve$/m,
    );
    const verify = await execa('systemd-analyze', ['verify', ...installed.body.files], {reject: false});
    expect(verify.stderr).toBe('');
    expect(verify.exitCode).toBe(0);
    // setup --self-serve puts the same units beside the reaper's (and remembers them for --remove).
    const setupDir = path.join(sandbox.dir, 'setup-units');
    const setup = await sandbox.json<{steps: Array<{step: string; status: string; detail: string}>}>([
      'setup',
      '--self-serve',
      '--unit-dir',
      setupDir,
    ]);
    expect(setup.body.steps, JSON.stringify(setup.body)).toContainEqual(
      expect.objectContaining({step: 'self-serve', status: 'done'}),
    );
    expect(await readFile(path.join(setupDir, 'sandman-self.socket'), 'utf8')).toBe(socket);
    const removal = await sandbox.json<{steps: Array<{step: string; status: string}>}>([
      'setup',
      '--remove',
      '--force',
      '--dry-run',
    ]);
    expect(removal.body.steps, JSON.stringify(removal.body)).toContainEqual(
      expect.objectContaining({step: 'self-serve', status: 'would'}),
    );
    // network status shows the listener's rules with sandman's own.
    const status = await sandbox.run(['network', 'status']);
    expect(status.stdout).toContain(`SANDMAN-SELF-${sandbox.instance.slice(0, 8)}`);
    expect(status.exitCode, status.stdout).toBe(0);
  });

  it('extend 2h moves the record, her keys and the host certificate; past her userMaxTtl: exit 8, nothing changed', async () => {
    const before = (await record(alice.session_id))!;
    const extended = await inSession('alice', alice, 'sandman extend 2h');
    expect(extended.exitCode, extended.stderr + listenerOutput.join('')).toBe(0);
    const after = (await record(alice.session_id))!;
    expect(Date.parse(after.expires_at) - Date.parse(before.expires_at)).toBe(2 * 3600_000);
    expect(extended.stdout).toContain(
      `now expires ${after.expires_at.replace('T', ' ').replace(/:\d\dZ$/, ' UTC')}`,
    );
    expect(after.last_extended_by).toBe(`alice (session ${alice.session_id})`);
    const stamp = after.expires_at.replace(/[-:T]/g, '').replace(/Z$/, '') + 'Z';
    expect((await inSession('alice', alice, 'cat /etc/sandman/session/authorized_keys')).stdout).toContain(
      `expiry-time="${stamp}"`,
    );
    const certificate = await execa('ssh-keygen', [
      '-Lf',
      path.join(sandbox.keysDir, `${alice.session_id}.host`, 'ssh_host_ed25519_key-cert.pub'),
    ]);
    expect(certificate.stdout).toContain(` to ${after.expires_at.replace(/Z$/, '')}`);
    const shown = await sandbox.json<View>(['session', 'show', alice.session_id]);
    expect(shown.body.last_extended_by).toBe(`alice (session ${alice.session_id})`);
    expect((await sandbox.run(['session', 'show', alice.session_id])).stdout).toContain(
      `Extended:   last by alice (session ${alice.session_id})`,
    );
    expect((await auditLines()).filter((line) => line.action === 'extend')).toContainEqual(
      expect.objectContaining({
        actor: `alice (session ${alice.session_id})`,
        session: alice.session_id,
        result: 'ok',
      }),
    );

    const state = await readFile(sandbox.stateFile);
    const refused = await inSession('alice', alice, 'sandman extend 1h');
    expect(refused.exitCode).toBe(8);
    expect(refused.stderr).toMatch(
      /alice's sessions may last at most 4 hour\(s\) \(userMaxTtl, from user\) from creation, i\.e\. until /,
    );
    expect(await readFile(sandbox.stateFile)).toEqual(state);
    const json = await inSession('alice', alice, 'sandman extend 1h --json');
    expect(json.exitCode).toBe(8);
    expect(JSON.parse(json.stdout)).toMatchObject({error: {code: 'POLICY', exit_code: 8}});
  });

  it("refuses every attempt on bob's session, forged credentials and the host network; 50 hostile requests change nothing", async () => {
    const state = await readFile(sandbox.stateFile);
    // Her credential with bob's session ID: 403, exit 3 in the client.
    const onBob = await inSession(
      'alice',
      alice,
      tampered(`s#^url=.*#url=http://${gatewayAddress}:${SELF_PORT}/s/${bob.session_id}#`, 'stop'),
    );
    expect(onBob.exitCode, onBob.stderr).toBe(3);
    expect(onBob.stderr).toContain(
      `this session's credential is for session ${alice.session_id}, not ${bob.session_id}`,
    );
    const raw = await inSession(
      'alice',
      alice,
      `curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat /etc/sandman/session/self-token)" --data '{"argv":["extend","1h"]}' ${urlOf(bob.session_id)}`,
    );
    expect(raw.stdout).toBe('403');
    // A forged credential: no answer at all; the client says so, exit 3.
    const forged = await inSession(
      'alice',
      alice,
      tampered(
        's#^if ! token=.*#token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA; if false; then#',
        'status',
      ),
    );
    expect(forged.exitCode, forged.stderr).toBe(3);
    expect(forged.stdout).toBe('');
    // Bob's file is not in alice's session, and hers is hers alone (0400).
    const mode = await inSession('alice', alice, 'stat -c "%a %u" /etc/sandman/session/self-token');
    expect(mode.stdout.trim()).toBe(`400 ${(await record(alice.session_id))!.uid}`);

    // 50 hostile requests, with her credential and without.
    const hostile = [
      `for i in $(seq 1 12); do curl -s -m 5 -o /dev/null -H "Authorization: Bearer $T" --data '{"argv": [' ${urlOf(alice.session_id)}; done`,
      `for i in $(seq 1 8); do curl -s -m 5 -o /dev/null -H "Authorization: Bearer $T" --data '{"argv": "stop"}' ${urlOf(alice.session_id)}; done`,
      `head -c 200000 /dev/zero | tr '\\0' a > /tmp/big; for i in $(seq 1 10); do curl -s -m 5 -o /dev/null -H "Authorization: Bearer $T" --data-binary @/tmp/big ${urlOf(alice.session_id)}; done`,
      `for m in GET PUT DELETE PATCH OPTIONS; do for i in 1 2; do curl -s -m 5 -o /dev/null -X $m -H "Authorization: Bearer $T" ${urlOf(alice.session_id)}; done; done`,
      `for i in $(seq 1 10); do curl -s -m 5 -o /dev/null --data '{"argv":["stop"]}' ${urlOf(alice.session_id)}; done`,
    ].join('; ');
    const flood = await inSession(
      'alice',
      alice,
      `T=$(cat /etc/sandman/session/self-token); ${hostile}; echo done`,
    );
    expect(flood.stdout.trim()).toBe('done');
    expect(await readFile(sandbox.stateFile)).toEqual(state);
    // Her refused requests are audit lines; the unauthenticated ones got nothing, not even that.
    const refusedLines = (await auditLines()).filter(
      (line) => line.action === 'self' && line.result === 'failed' && line.session === alice.session_id,
    );
    expect(refusedLines.length).toBeGreaterThanOrEqual(40);
    expect(refusedLines[0]!.actor).toBe(`alice (session ${alice.session_id})`);
    expect((await record(bob.session_id))!.status).toBe('running');
    expect((await record(alice.session_id))!.status).toBe('running');

    // From the host network, even with her credential: nothing answers.
    const secret = (await inSession('alice', alice, 'cat /etc/sandman/session/self-token')).stdout.trim();
    const fromHost = await new Promise<string>((resolve) => {
      const sent = request(urlOf(alice.session_id), {
        method: 'POST',
        headers: {authorization: `Bearer ${secret}`, 'content-type': 'application/json'},
        timeout: 3000,
      });
      sent.on('response', (response) => resolve(`answered ${response.statusCode}`));
      sent.on('timeout', () => {
        sent.destroy();
        resolve('no answer');
      });
      sent.on('error', () => resolve('no answer'));
      sent.end('{"argv":["stop"]}');
    });
    expect(fromHost).toBe('no answer');
    // From a container sandman did not make, on the sessions network, with her credential: nothing.
    const foreign = await execa(
      'docker',
      [
        'run',
        '--rm',
        '--network',
        sandbox.network,
        '--entrypoint',
        'curl',
        TEST_IMAGE,
        '-s',
        '-m',
        '5',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '-H',
        `Authorization: Bearer ${secret}`,
        '--data',
        '{"argv":["status"]}',
        urlOf(alice.session_id),
      ],
      {reject: false},
    );
    expect(foreign.stdout).toBe('000');
    expect(await readFile(sandbox.stateFile)).toEqual(state);
  });

  it('keep 1h: an idle reap keeps the session; once the keep is past, the next idle reap stops it', async () => {
    const idle = {SANDMAN_IDLE_TIMEOUT: '2s'};
    const kept = await inSession('alice', alice, 'sandman keep 1h');
    expect(kept.exitCode, kept.stderr).toBe(0);
    const until = (await record(alice.session_id))!.keep_until!;
    expect(Date.parse(until) - Date.now()).toBeGreaterThan(59 * 60_000);
    expect(kept.stdout).toContain(
      `No stop for idleness until ${until.replace('T', ' ').replace(/:\d\dZ$/, ' UTC')}`,
    );
    expect((await sandbox.json<View>(['session', 'show', alice.session_id])).body.keep_until).toBe(until);
    const listed = await sandbox.run(['session', 'ls']);
    expect(listed.stdout.split('\n')[0]).toMatch(/\bKEEP\s+EXTENDED BY$/);
    const tooLong = await inSession('alice', alice, 'sandman keep 9h');
    expect(tooLong.exitCode).toBe(8);
    expect(tooLong.stderr).toContain(
      'alice may keep a session for at most 8h (userMaxKeep, from setting); asked: 9h',
    );

    const status = JSON.parse((await inSession('alice', alice, 'sandman status --json')).stdout) as {
      keep_until: string;
      idle: {verdict: string};
    };
    expect(status).toMatchObject({keep_until: until, idle: {verdict: 'kept'}});

    // Her own limit (user set --max-keep), 0: not allowed.
    expect((await sandbox.run(['user', 'set', 'alice', '--max-keep', '0'])).exitCode).toBe(0);
    expect((await sandbox.run(['user', 'show', 'alice'])).stdout).toMatch(/^ +keep not allowed \(user\)$/m);
    const none = await inSession('alice', alice, 'sandman keep 30m');
    expect(none.exitCode).toBe(8);
    expect(none.stderr).toContain('alice may not keep sessions from idle stops (userMaxKeep 0, from user)');
    expect((await sandbox.run(['user', 'set', 'alice', '--max-keep', 'inherit'])).exitCode).toBe(0);
    expect((await record(alice.session_id))!.keep_until).toBe(until);

    // The first reap sets the CPU baseline; the next one judges: idle, but kept (bob, idle and
    // not kept, is stopped). Nothing runs in the session in between.
    expect((await sandbox.json(['reap'], {env: idle})).exitCode).toBe(0);
    await sleep(2500);
    const judged = await sandbox.json<{items: unknown[]}>(['reap'], {env: idle});
    expect(judged.body.items).toEqual([expect.objectContaining({action: 'stop-session', user: 'bob'})]);
    expect((await record(alice.session_id))!.status).toBe('running');

    // Time passes: the keep is over, and the next idle reap stops her session.
    await editState(sandbox.stateFile, (state) => {
      state.sessions.find((session) => session.id === alice.session_id)!.keep_until = PAST;
    });
    await sleep(2500);
    const stopped = await sandbox.json<{items: unknown[]}>(['reap'], {env: idle});
    expect(stopped.body.items).toEqual([
      expect.objectContaining({action: 'stop-session', reason: 'idle', user: 'alice', result: 'done'}),
    ]);
    const started = await sandbox.json<View>(['session', 'start', alice.session_id]);
    expect(started.exitCode, started.stderr).toBe(0);
  });

  it('stop: the answer, then the session stops (GPU freed, container kept); the stopped credential is dead', async () => {
    const secretBefore = (
      await inSession('alice', alice, 'cat /etc/sandman/session/self-token')
    ).stdout.trim();
    const stopped = await inSession('alice', alice, 'sandman stop');
    expect(stopped.stdout, stopped.stderr + listenerOutput.join('')).toContain(
      `Stopping session ${alice.session_id}: its GPU goes back`,
    );
    for (let tries = 0; (await record(alice.session_id))!.status !== 'stopped'; tries++) {
      if (tries > 100) throw new Error(`never stopped: ${listenerOutput.join('')}`);
      await sleep(100);
    }
    const stored = (await record(alice.session_id))!;
    expect(stored.gpu_uuid).toBeNull();
    expect(stored.self_token_hash).toBeNull();
    const inspect = await execa('docker', ['inspect', '-f', '{{.State.Status}}', stored.container_id!]);
    expect(inspect.stdout.trim()).toBe('exited');
    expect((await sandbox.json<View>(['session', 'show', alice.session_id])).body.status).toBe('stopped');
    expect((await auditLines()).filter((line) => line.action === 'stop')).toContainEqual(
      expect.objectContaining({
        actor: `alice (session ${alice.session_id})`,
        session: alice.session_id,
        result: 'ok',
      }),
    );

    // Started again: a new credential; the old one (and a removed session's) gets no answer.
    expect((await sandbox.run(['session', 'start', alice.session_id])).exitCode).toBe(0);
    const replay = `curl -s -m 5 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${secretBefore}" --data '{"argv":["status"]}' ${urlOf(alice.session_id)}`;
    expect((await inSession('alice', alice, replay)).stdout).toBe('000');
    expect((await inSession('alice', alice, 'sandman status')).exitCode).toBe(0);
    const secretRemoved = (
      await inSession('alice', alice, 'cat /etc/sandman/session/self-token')
    ).stdout.trim();
    expect((await sandbox.run(['session', 'rm', alice.session_id])).exitCode).toBe(0);
    const again = await create('alice', ['--no-gpu']);
    const replayRemoved = `curl -s -m 5 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${secretRemoved}" --data '{"argv":["status"]}' ${urlOf(alice.session_id)}`;
    expect((await inSession('alice', again, replayRemoved)).stdout).toBe('000');
    expect((await inSession('alice', again, 'sandman status')).exitCode).toBe(0);
  });
});
