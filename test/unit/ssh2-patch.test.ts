import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import type {AddressInfo} from 'node:net';
import {tmpdir} from 'node:os';
import path from 'node:path';
import type {Duplex} from 'node:stream';

import {execa} from 'execa';
import {
  AgentProtocol,
  BaseAgent,
  Client,
  Server,
  utils,
  type Connection,
  type ExecOptions,
  type ParsedKey,
  type ServerChannel,
} from 'ssh2';
import {afterEach, describe, expect, it} from 'vitest';

import {certifiedHostKeys} from '../../src/gateway/adapters/ssh2-gateway.js';
import {knownHostsLine, signHostCertificate} from '../../src/ssh/ssh-certificates.js';
import {generateKeyPair} from '../../src/ssh/ssh-keys.js';

/**
 * What patches/ssh2+1.17.0.patch adds to ssh2 for the SSH gateway, on the ssh2 that source runs
 * and unit tests load (node_modules, patched by `npm ci`): each test fails on an unpatched ssh2.
 */
const servers: Server[] = [];
let scratch: string | undefined;
afterEach(async () => {
  for (const server of servers.splice(0)) server.close();
  if (scratch) await rm(scratch, {recursive: true, force: true});
  scratch = undefined;
});

function parsed(privateKey: string): ParsedKey {
  const key = utils.parseKey(privateKey);
  return (Array.isArray(key) ? key[0] : key) as ParsedKey;
}

/** An ssh2 server on a free loopback port that lets anyone in and answers each exec with `run`. */
async function listen(
  hostKeys: ParsedKey[],
  run: (connection: Connection, channel: ServerChannel) => void,
): Promise<number> {
  const server = new Server({hostKeys: hostKeys.map((key) => ({key})) as never});
  servers.push(server);
  server.on('connection', (connection) => {
    connection.on('error', () => undefined);
    connection.on('authentication', (context) => context.accept());
    connection.on('ready', () =>
      connection.on('session', (accept) => {
        const session = accept();
        session.on('auth-agent', (ok) => ok?.());
        session.on('exec', (ok) => run(connection, ok()));
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function answer(channel: ServerChannel, text: string): void {
  channel.write(text);
  channel.exit(0);
  channel.end();
}

describe('ssh2, patched: a host certificate', () => {
  it('is accepted by OpenSSH, which trusts only its CA: the key exchange is signed as the plain key', async () => {
    const ca = generateKeyPair('sandman host CA');
    const host = generateKeyPair('gateway');
    const now = Date.now();
    const certificate = signHostCertificate({
      caPrivateKey: ca.privateKey,
      hostPublicKey: host.publicKey,
      principals: ['gateway.test'],
      validAfter: new Date(now - 3_600_000),
      validBefore: new Date(now + 3_600_000),
    });
    const port = await listen(certifiedHostKeys({privateKey: host.privateKey, certificate}), (_c, channel) =>
      answer(channel, 'certified\n'),
    );
    scratch = await mkdtemp(path.join(tmpdir(), 'sandman-ssh2-patch-'));
    const knownHosts = path.join(scratch, 'known_hosts');
    await writeFile(knownHosts, knownHostsLine(ca.publicKey, 'gateway.test') + '\n');

    const ssh = await execa(
      'ssh',
      [
        ...['-F', '/dev/null', '-p', String(port)],
        ...['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', '-o', 'IdentityAgent=none'],
        ...['-o', 'HostKeyAlias=gateway.test', '-o', 'StrictHostKeyChecking=yes'],
        ...['-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'GlobalKnownHostsFile=/dev/null'],
        // Only the certificate: the plain key beside it is not in known_hosts anyway.
        ...['-o', 'HostKeyAlgorithms=ssh-ed25519-cert-v01@openssh.com'],
        'alice@127.0.0.1',
        'true',
      ],
      {reject: false, timeout: 30_000},
    );
    // Unpatched, ssh2 names the signature after the certificate, and OpenSSH hangs up: "key type
    // does not match", exit 255.
    expect({exitCode: ssh.exitCode, stdout: ssh.stdout, stderr: ssh.stderr}).toEqual({
      exitCode: 0,
      stdout: 'certified',
      stderr: '',
    });
  });
});

/** A client's ssh-agent, in memory: it holds one key and lists it. */
class MemoryAgent extends BaseAgent {
  constructor(private readonly key: ParsedKey) {
    super();
  }

  override getStream(callback: (error: Error | undefined, stream?: Duplex) => void): void {
    const protocol = new AgentProtocol(false);
    protocol.on('identities', (request) => protocol.getIdentitiesReply(request, [this.key]));
    callback(undefined, protocol);
  }

  // Only forwarded here, never asked directly: the test logs in with "none".
  getIdentities(callback: (error: Error | undefined, keys?: ParsedKey[]) => void): void {
    callback(undefined, [this.key]);
  }

  sign(_key: unknown, _data: Buffer, ...rest: unknown[]): void {
    const callback = rest.find((each) => typeof each === 'function') as (error: Error) => void;
    callback(new Error('not used by this test'));
  }
}

describe('ssh2, patched: agent forwarding on the server side', () => {
  it("opens an auth-agent channel back to a client that forwards its agent, and reaches the client's agent", async () => {
    const host = generateKeyPair('server');
    const laptopKey = parsed(generateKeyPair('alice@laptop').privateKey);
    const port = await listen([parsed(host.privateKey)], (connection, channel) => {
      // The call the patch adds; ssh2's type declarations lack it, as the gateway's ChannelAgent says.
      const open = (connection as unknown as {openssh_authAgent?: (cb: AgentCallback) => void})
        .openssh_authAgent;
      if (typeof open !== 'function') return answer(channel, 'no openssh_authAgent\n');
      open.call(connection, (error, agentChannel) => {
        if (error) return answer(channel, `auth-agent channel refused: ${error.message}\n`);
        const agent = new AgentProtocol(true);
        agentChannel.pipe(agent).pipe(agentChannel);
        agent.getIdentities((listError, keys) => {
          agentChannel.end();
          answer(channel, listError ? `${listError.message}\n` : `${(keys ?? []).map(openssh).join('\n')}\n`);
        });
      });
    });

    const client = new Client();
    const output = await new Promise<string>((resolve, reject) => {
      client.on('error', reject);
      client.on('ready', () =>
        client.exec('ssh-add -L', {agentForward: true} as ExecOptions, (error, stream) => {
          if (error) return reject(error);
          let text = '';
          stream.on('data', (chunk: Buffer) => (text += String(chunk)));
          stream.on('close', () => resolve(text));
        }),
      );
      client.connect({
        host: '127.0.0.1',
        port,
        username: 'alice',
        agent: new MemoryAgent(laptopKey),
        agentForward: true,
        authHandler: ['none'],
      });
    }).finally(() => client.end());

    expect(output).toBe(`${openssh(laptopKey)}\n`);
  });
});

type AgentCallback = (error: Error | undefined, channel: Duplex) => void;

const openssh = (key: ParsedKey) => `${key.type} ${key.getPublicSSH().toString('base64')}`;
