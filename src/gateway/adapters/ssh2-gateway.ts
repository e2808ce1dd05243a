import type {Socket} from 'node:net';
import type {Duplex} from 'node:stream';

import {
  BaseAgent,
  Client,
  Server,
  utils,
  type ClientChannel,
  type Connection,
  type ExecOptions,
  type ParsedKey,
  type PseudoTtyInfo,
  type ServerChannel,
  type Session,
} from 'ssh2';

import type {AuthDecision} from '../gateway-auth.js';
import {connectedSocket, publicBlob} from '../../ssh/adapters/ssh2-upstream.js';
import type {GatewayConnection, GatewayOutcome, GatewayServer, UpstreamTarget} from '../gateway-server.js';

/**
 * The gateway's SSH, with ssh2: a server for the one connection systemd accepted, and a client to
 * the session container's sshd that each channel is relayed to (docs/admin/gateway.md "The SSH gateway").
 * patches/ssh2+1.17.0.patch adds to ssh2 what this needs and it lacks: the host certificate's
 * signature name and the server side's auth-agent channel (test/unit/ssh2-patch.test.ts).
 */
export const ssh2Gateway: GatewayServer = {serve};

function serve(connection: GatewayConnection): Promise<GatewayOutcome> {
  const outcome: GatewayOutcome = {users: [], attempts: 0, accepted: undefined, ended: 'closed'};
  let hostKeys: Array<{key: ParsedKey}>;
  try {
    hostKeys = certifiedHostKeys(connection.hostKey).map((key) => ({key}));
  } catch (error) {
    connection.socket.destroy();
    return Promise.reject(error as Error);
  }
  return new Promise((resolve) => {
    const {socket} = connection;
    let finished = false;
    let upstream: Client | undefined;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(loginTimer);
      upstream?.end();
      socket.destroy();
      resolve(outcome);
    };
    // OpenSSH's LoginGraceTime: a client that does not log in in time is dropped.
    const loginTimer = setTimeout(() => {
      outcome.ended = 'timeout';
      finish();
    }, connection.loginTimeoutMs);
    socket.on('close', finish);
    socket.on('error', finish);
    // A client gone while the gateway read the state and made its certificate: nothing to serve.
    if (socket.destroyed) return finish();
    // SSH's handshake is many small writes each way: Nagle's algorithm would hold each ~40 ms.
    (socket as Partial<Socket>).setNoDelay?.(true);

    // Given as {key}: ssh2 takes an already parsed key only in that form.
    const server = new Server({hostKeys: hostKeys as never, ident: 'sandman-gateway'});
    server.on('connection', (client: Connection) => {
      client.on('error', () => finish());
      client.on('close', finish);
      client.on('authentication', (context) => {
        if (!outcome.users.includes(context.username)) outcome.users.push(context.username);
        // "none" is how every client starts: it lists the methods, it is no attempt.
        if (context.method === 'none') return context.reject(['publickey']);
        let decision: AuthDecision;
        if (context.method === 'publickey') {
          outcome.attempts++;
          decision = connection.authenticate({
            user: context.username,
            key: context.key.data,
            signature: context.signature,
            signed: context.blob,
            hashAlgo: context.hashAlgo,
          });
        } else {
          outcome.attempts++;
          decision = connection.refuse();
        }
        if (decision === 'key-ok' || decision === 'accepted') {
          if (decision === 'accepted') outcome.accepted = context.username;
          return context.accept();
        }
        context.reject(['publickey']);
        if (decision === 'disconnect') {
          outcome.ended = 'attempts';
          // Let the refusal reach the client first, so it prints its usual denial.
          setImmediate(finish);
        }
      });
      client.on('ready', () => {
        clearTimeout(loginTimer);
        const user = outcome.accepted!;
        upstream = new Client();
        const relay = new Relay(client, upstream);
        relay.start(connection.upstream(user, (line) => relay.say(line)));
      });
    });
    server.injectSocket(socket as never);
  });
}

/**
 * The host key twice: certified by the host CA (what `sandman known-hosts` trusts) and plain, for
 * clients that do not ask for a certificate. The certified one is ssh2's parsed key with the
 * certificate as its public form; its signatures keep the plain key's name.
 */
export function certifiedHostKeys(hostKey: {privateKey: string; certificate: string}): ParsedKey[] {
  const parsed = utils.parseKey(hostKey.privateKey);
  const key = (Array.isArray(parsed) ? parsed[0] : parsed) as ParsedKey | Error | undefined;
  if (!key || key instanceof Error) throw new Error(`cannot read the gateway host key: ${String(key)}`);
  const [certificateType = '', certificateText = ''] = hostKey.certificate.trim().split(/\s+/);
  const certificate = Object.create(key, {
    type: {value: certificateType},
    signatureAlgorithm: {value: key.type},
    getPublicSSH: {value: () => Buffer.from(certificateText, 'base64')},
  }) as ParsedKey;
  return [certificate, key];
}

/** The user's agent, reached through an auth-agent channel the gateway opens back to them. */
class ChannelAgent extends BaseAgent {
  constructor(private readonly client: Connection) {
    super();
  }

  override getStream(callback: (error: Error | undefined, stream?: Duplex) => void): void {
    const open = (this.client as unknown as {openssh_authAgent?: OpenAgent}).openssh_authAgent;
    if (!open) return callback(new Error('this build of ssh2 cannot forward agents'));
    open.call(this.client, (error, stream) => callback(error, stream));
  }

  // The gateway logs in with its own key; the user's agent is only passed through, never used.
  getIdentities(callback: (error: Error | undefined, keys?: ParsedKey[]) => void): void {
    callback(undefined, []);
  }

  sign(_key: unknown, _data: Buffer, ...rest: unknown[]): void {
    const callback = rest.find((each) => typeof each === 'function') as ((error: Error) => void) | undefined;
    callback?.(new Error('the gateway does not sign with the user agent'));
  }
}
type OpenAgent = (callback: (error: Error | undefined, stream: Duplex) => void) => void;

/** A pty request as it came, and the size it has now. */
interface PtyState {
  term: string;
  cols: number;
  rows: number;
  width: number;
  height: number;
  modes: PseudoTtyInfo['modes'];
}

/** One user connection relayed to one container's sshd, channel by channel. */
class Relay {
  #upstream: Promise<Client> | undefined;
  #failure: Error | undefined;
  readonly #said: string[] = [];
  /** The channels that carry what the gateway says (stderr) while the session gets ready. */
  readonly #listeners = new Set<ServerChannel>();

  constructor(
    private readonly client: Connection,
    private readonly connection: Client,
  ) {}

  say(line: string): void {
    this.#said.push(line);
    for (const channel of this.#listeners) channel.stderr.write(line + '\r\n');
  }

  start(target: Promise<UpstreamTarget>): void {
    this.#upstream = target.then((where) => this.#connect(where));
    this.#upstream.catch((error: unknown) => {
      this.#failure = error as Error;
      for (const channel of this.#listeners) this.#fail(channel);
      // Nothing to relay to: the connection ends once the failure was told.
      setTimeout(() => this.client.end(), 100);
    });
    this.client.on('session', (accept) => this.#session(accept()));
    this.client.on('tcpip', (accept, reject, info) => {
      this.#upstream!.then((connection) =>
        connection.forwardOut(info.srcIP, info.srcPort, info.destIP, info.destPort, (error, up) => {
          if (error) return reject();
          const down = accept();
          down.pipe(up).pipe(down);
          down.on('close', () => up.destroy());
          up.on('close', () => down.destroy());
        }),
      ).catch(() => reject());
    });
    // Remote forwarding (ssh -R) and anything else global stays off, as on direct ports.
    this.client.on('request', (_accept, reject) => reject?.());
    this.client.on('close', () => this.connection.end());
  }

  #connect(target: UpstreamTarget): Promise<Client> {
    const expected = target.hostKey ? publicBlob(target.hostKey) : undefined;
    return new Promise((resolve, reject) => {
      this.connection
        .on('ready', () => resolve(this.connection))
        .on('error', (error) => reject(new Error(`cannot reach the session's SSH server: ${error.message}`)))
        .on('close', () => this.client.end())
        .connect({
          sock: connectedSocket(target),
          username: target.username,
          privateKey: target.privateKey,
          // No agentForward here: that would ask for the agent on every channel, and a client that
          // did not ask (no ssh -A) would be offered one ("probably a break-in attempt"). Each
          // channel asks for it only when its client did (#session's options).
          agent: new ChannelAgent(this.client),
          keepaliveInterval: 30_000,
          readyTimeout: 20_000,
          // The session's own host key, as sandman certified it: nobody else answers for it.
          hostVerifier: (key: Buffer) => expected === undefined || expected.equals(key),
        });
    });
  }

  #session(session: Session): void {
    let pty: PtyState | undefined;
    let up: ClientChannel | undefined;
    const env: Record<string, string> = {};
    let agent = false;
    session.on('pty', (accept, _reject, info) => {
      pty = {...info};
      accept?.();
    });
    session.on('window-change', (accept, _reject, info) => {
      if (pty) Object.assign(pty, {cols: info.cols, rows: info.rows, width: info.width, height: info.height});
      up?.setWindow(info.rows, info.cols, info.height, info.width);
      accept?.();
    });
    session.on('env', (accept, _reject, info) => {
      env[info.key] = info.val;
      accept?.();
    });
    session.on('auth-agent', (accept) => {
      agent = true;
      accept?.();
    });
    session.on('signal', (accept, _reject, info) => {
      up?.signal(info.name);
      accept?.();
    });
    const open = (down: ServerChannel, start: (connection: Client, done: Callback) => void) => {
      this.#listen(down);
      this.#upstream!.then((connection) =>
        start(connection, (error, channel) => {
          this.#listeners.delete(down);
          if (error) {
            down.stderr.write(`sandman: ${error.message}\r\n`);
            down.exit(1);
            return down.end();
          }
          up = channel;
          pipeChannels(down, channel);
        }),
      ).catch(() => undefined);
    };
    // agentForward per channel is ssh2's (client.js), though its type declarations lack it.
    const options = () => ({env, agentForward: agent}) as ExecOptions;
    session.on('shell', (accept) =>
      open(accept(), (connection, done) => connection.shell(pty ? ptyOptions(pty) : false, options(), done)),
    );
    session.on('exec', (accept, _reject, info) =>
      open(accept(), (connection, done) =>
        connection.exec(info.command, {...options(), pty: pty ? ptyOptions(pty) : false}, done),
      ),
    );
    session.on('subsystem', (accept, _reject, info) =>
      open(accept(), (connection, done) => connection.subsys(info.name, done)),
    );
  }

  /** A channel waiting for the session hears what was said so far and what is said next. */
  #listen(channel: ServerChannel): void {
    for (const line of this.#said) channel.stderr.write(line + '\r\n');
    if (this.#failure) return this.#fail(channel);
    this.#listeners.add(channel);
  }

  #fail(channel: ServerChannel): void {
    this.#listeners.delete(channel);
    channel.stderr.write(`sandman: ${this.#failure!.message}\r\n`);
    channel.exit(1);
    channel.end();
  }
}

type Callback = (error: Error | undefined, channel: ClientChannel) => void;

function ptyOptions(pty: PtyState) {
  return {
    term: pty.term,
    cols: pty.cols,
    rows: pty.rows,
    width: pty.width,
    height: pty.height,
    modes: pty.modes,
  };
}

/** Both directions, then the exit status (or signal) and the close, as the container's sshd sent them. */
function pipeChannels(down: ServerChannel, up: ClientChannel): void {
  down.pipe(up);
  up.pipe(down, {end: false});
  up.stderr.pipe(down.stderr, {end: false});
  let exit: [number] | [null, string, boolean, string] | undefined;
  up.on('exit', (...args: unknown[]) => {
    exit = args as typeof exit;
  });
  up.on('close', () => {
    if (exit && typeof exit[0] === 'number') down.exit(exit[0]);
    else if (exit && exit[1]) down.exit(exit[1], exit[2] ?? false, exit[3] ?? '');
    down.end();
  });
  down.on('close', () => up.close());
}
