import type {WebSocket} from 'ws';

import type {TerminalSize, TerminalStream} from '../../src/web/terminal-service.js';

/** What the page sends: keystrokes and pastes, or the terminal's new size. */
type ClientMessage = {type: 'input'; data: string} | {type: 'resize'; cols: number; rows: number};

const validSize = (size: Partial<TerminalSize>): size is TerminalSize =>
  Number.isInteger(size.cols) &&
  Number.isInteger(size.rows) &&
  size.cols! > 0 &&
  size.rows! > 0 &&
  size.cols! <= 1000 &&
  size.rows! <= 1000;

/**
 * One browser terminal (docs/admin/console-and-sign-in.md "In the browser"): the shell's output goes to the page as binary
 * frames; the page sends JSON text frames (`input`, `resize`). When the shell or the session ends
 * the page is told why (`{"type": "closed", "reason": …}`) before the socket closes; a shell that
 * cannot be opened is `{"type": "error", …}`.
 */
export function bridgeTerminal(
  socket: WebSocket,
  size: Partial<TerminalSize>,
  open: (size: TerminalSize) => Promise<TerminalStream>,
  ended: () => void,
): void {
  let stream: TerminalStream | undefined;
  let gone = false;
  // What the page sends before the shell is open (typed ahead) waits for it.
  const early: ClientMessage[] = [];
  const apply = (target: TerminalStream, message: ClientMessage) => {
    if (message.type === 'input' && typeof message.data === 'string') target.write(message.data);
    else if (message.type === 'resize' && validSize(message)) target.resize(message);
  };
  socket.on('message', (data, binary) => {
    if (binary) return;
    let message: ClientMessage;
    try {
      message = JSON.parse(String(data)) as ClientMessage;
    } catch {
      return;
    }
    if (stream) apply(stream, message);
    else if (early.length < 1000) early.push(message);
  });
  socket.on('close', () => {
    gone = true;
    stream?.close();
    ended();
  });
  open(validSize(size) ? size : {cols: 80, rows: 24}).then(
    (opened) => {
      if (gone) return opened.close();
      stream = opened;
      opened.onData((data) => socket.send(data, {binary: true}));
      opened.onClose((reason) => {
        if (socket.readyState !== socket.OPEN) return;
        socket.send(JSON.stringify({type: 'closed', reason}));
        socket.close(1000, 'closed');
      });
      for (const message of early.splice(0)) apply(opened, message);
    },
    (error: unknown) => {
      if (socket.readyState !== socket.OPEN) return;
      socket.send(JSON.stringify({type: 'error', message: (error as Error).message}));
      socket.close(4000, 'no terminal');
    },
  );
}
