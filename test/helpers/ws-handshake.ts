import WebSocket from 'ws';

/** A WebSocket handshake with these headers: "open", "refused STATUS" or "error MESSAGE". */
export function wsHandshake(url: string, headers: {cookie: string; origin: string}): Promise<string> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, {headers});
    socket.on('open', () => {
      socket.close();
      resolve('open');
    });
    socket.on('unexpected-response', (request, response) => {
      resolve(`refused ${response.statusCode}`);
      request.destroy();
    });
    socket.on('error', (error) => resolve(`error ${error.message}`));
  });
}
