import {Client} from 'ssh2';

import type {UpstreamTarget} from '../../gateway/gateway-server.js';
import type {TerminalClient, TerminalSize, TerminalStream} from '../terminal-service.js';
import {connectedSocket, publicBlob} from '../../ssh/adapters/ssh2-upstream.js';

/**
 * The browser terminal's SSH, with ssh2: a login shell on a pty (xterm-256color) in the session,
 * as the relay key's user; the host key must be the one sandman certified for the session.
 */
export const ssh2Terminal: TerminalClient = {
  open(target: UpstreamTarget, size: TerminalSize): Promise<TerminalStream> {
    const expected = target.hostKey ? publicBlob(target.hostKey) : undefined;
    const connection = new Client();
    const socket = connectedSocket(target);
    return new Promise((resolve, reject) => {
      connection
        .on('error', (error) => reject(new Error(`cannot reach the session's SSH server: ${error.message}`)))
        .on('ready', () => {
          connection.shell({term: 'xterm-256color', cols: size.cols, rows: size.rows}, (error, channel) => {
            if (error) {
              connection.end();
              return reject(error);
            }
            let closed = false;
            const closeListeners: Array<(why: string) => void> = [];
            const finish = (why: string) => {
              if (closed) return;
              closed = true;
              for (const listener of closeListeners) listener(why);
              connection.end();
            };
            channel.on('exit', (code: number | null) => finish(`the shell exited (${code ?? 'signal'})`));
            channel.on('close', () => finish('the session closed the connection'));
            connection.on('close', () => finish('the connection to the session ended'));
            resolve({
              write: (data) => channel.write(data),
              resize: ({cols, rows}) => channel.setWindow(rows, cols, 0, 0),
              onData: (listener) => {
                channel.on('data', listener);
                channel.stderr.on('data', listener);
              },
              onClose: (listener) => closeListeners.push(listener),
              close: () => finish('closed by the browser'),
            });
          });
        })
        .connect({
          sock: socket,
          username: target.username,
          privateKey: target.privateKey,
          keepaliveInterval: 30_000,
          readyTimeout: 20_000,
          hostVerifier: (key: Buffer) => expected === undefined || expected.equals(key),
        });
    });
  },
};
