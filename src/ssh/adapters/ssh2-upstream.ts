import {createConnection, type Socket} from 'node:net';

import {utils} from 'ssh2';

import type {UpstreamTarget} from '../../gateway/gateway-server.js';

/**
 * How sandman's own SSH clients (the gateway's relay, the browser terminal) reach a session's
 * sshd: a TCP connection without Nagle's delay (small handshake and keystroke writes would wait
 * for delayed ACKs), and the host key compared in its wire form.
 */
export function connectedSocket(target: Pick<UpstreamTarget, 'host' | 'port'>): Socket {
  const socket = createConnection({host: target.host, port: target.port});
  socket.setNoDelay(true);
  return socket;
}

/** The wire form of an OpenSSH public key line: what a host verifier compares. */
export function publicBlob(line: string): Buffer | undefined {
  const parsed = utils.parseKey(line);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  return key && !(key instanceof Error) ? key.getPublicSSH() : undefined;
}
