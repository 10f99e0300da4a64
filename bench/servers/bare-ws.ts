// The ceiling: a bare `ws` server that broadcasts every HTTP POST body to all its clients.
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const frame = Buffer.concat(chunks).toString();
    for (const c of wss.clients) c.send(frame);
    res.writeHead(201).end('{}');
  });
});
const wss = new WebSocketServer({ server });
server.listen(0, '127.0.0.1', () =>
  console.log(`LISTENING http://127.0.0.1:${(server.address() as { port: number }).port}`),
);
