// The browser terminal (docs/admin/console-and-sign-in.md "In the browser"): xterm.js over the API's WebSocket, which the
// API bridges to the session's sshd. Output arrives as binary frames; keystrokes, pastes and the
// terminal's size go as JSON text frames.
'use strict';

const session = new URLSearchParams(location.search).get('session') || '';
const status = document.getElementById('status');
document.getElementById('title').textContent = session;

const terminal = new Terminal({cursorBlink: true, convertEol: false, fontSize: 14, scrollback: 5000});
const fit = new FitAddon.FitAddon();
terminal.loadAddon(fit);
terminal.open(document.getElementById('terminal'));
fit.fit();
terminal.focus();

const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
const socket = new WebSocket(
  `${scheme}//${location.host}/sessions/${encodeURIComponent(session)}/terminal?cols=${terminal.cols}&rows=${terminal.rows}`,
);
socket.binaryType = 'arraybuffer';
const send = (message) => socket.readyState === WebSocket.OPEN && socket.send(JSON.stringify(message));

socket.addEventListener('open', () => {
  status.textContent = `Connecting to session ${session} …`;
});
socket.addEventListener('message', (event) => {
  if (typeof event.data !== 'string') {
    // The shell's first output: it is there (what was typed before went to it too).
    if (!window.sandmanTerminal) {
      status.textContent = `Connected to session ${session}.`;
      window.sandmanTerminal = {ready: true};
    }
    return terminal.write(new Uint8Array(event.data));
  }
  const message = JSON.parse(event.data);
  if (message.type === 'closed' || message.type === 'error') {
    const text = message.reason || message.message;
    status.textContent = `sandman: ${text}`;
    terminal.write(`\r\n\x1b[1m[sandman: ${text}]\x1b[0m\r\n`);
  }
});
socket.addEventListener('close', (event) => {
  if (!status.textContent.startsWith('sandman:'))
    status.textContent =
      event.code === 1006
        ? 'sandman: could not connect (log in again, or ask for a new link)'
        : 'sandman: disconnected';
});
terminal.onData((data) => send({type: 'input', data}));
terminal.onResize(({cols, rows}) => send({type: 'resize', cols, rows}));
window.addEventListener('resize', () => fit.fit());
