import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

// The ceiling: bare node:http answering a small JSON body, nothing else.
const body = JSON.stringify({ result: { data: { valid: true } } });
const server = createServer((_req, res) => {
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
});
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});
process.once("SIGTERM", () => server.close(() => process.exit(0)));
