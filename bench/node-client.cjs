// The least a Node.js client can do for a session (docs/development/BENCHMARKS.md, issue 30's fourth part): create
// and start the container the create-steps bench's last step makes (the engine's API over its Unix
// socket, node:http only, nothing loaded beyond Node's own modules), then wait for sshd's banner.
// No state, keys, firewall or checks: what any create written in Node pays before its own work.
// Usage: node node-client.cjs SPEC_JSON_FILE NAME PORT
'use strict';
const http = require('node:http');
const net = require('node:net');
const {readFileSync} = require('node:fs');
const {setTimeout: sleep} = require('node:timers/promises');

const [specFile, name, port] = process.argv.slice(2);
const socketPath = process.env.DOCKER_HOST?.startsWith('unix://')
  ? process.env.DOCKER_HOST.slice('unix://'.length)
  : '/var/run/docker.sock';

function engine(method, path, body) {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {socketPath, method, path, headers: {'content-type': 'application/json'}},
      (response) => {
        let text = '';
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () =>
          response.statusCode < 300 ? resolve(text && JSON.parse(text)) : reject(new Error(text)),
        );
      },
    );
    request.on('error', reject);
    request.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

function banner() {
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    let text = '';
    const done = (answer) => {
      socket.destroy();
      resolve(answer);
    };
    socket.on('data', (chunk) => {
      text += chunk;
      if (text.includes('\n')) done(text.startsWith('SSH-2.0-'));
    });
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
  });
}

(async () => {
  const {Id} = await engine(
    'POST',
    `/containers/create?name=${name}`,
    JSON.parse(readFileSync(specFile, 'utf8')),
  );
  await engine('POST', `/containers/${Id}/start`);
  while (!(await banner())) await sleep(10);
})().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
