import { createServer, type IncomingHttpHeaders, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * What the proxy does with the n-th request (from 1) to a procedure: pass it on; pass it on, then
 * cut the connection before the answer gets back (the server did the work, the client never hears);
 * hold it unanswered; or answer for the server.
 */
export type ProxyAction =
  | "forward"
  | "lose-answer"
  | "hold"
  | { status: number; headers?: Record<string, string>; json: unknown };

export interface SeenRequest {
  path: string;
  headers: IncomingHttpHeaders;
  /** What the server answered, when the request was forwarded and the answer came. */
  answer?: { status: number; headers: IncomingHttpHeaders };
}

export interface FlakyProxy {
  url: string;
  /** Every request that reached the proxy, in order. */
  seen: SeenRequest[];
  close(): Promise<void>;
}

/** A tiny node:http proxy in front of a real BillingOS server, failing requests as a network or a load balancer would. */
export async function startFlakyProxy(
  target: string,
  decide: (n: number, request: SeenRequest) => ProxyAction,
): Promise<FlakyProxy> {
  const seen: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const entry: SeenRequest = { path: (req.url ?? "").split("?")[0]!, headers: req.headers };
      const action = decide(seen.push(entry), entry);
      if (action === "hold") return;
      if (typeof action === "object") {
        res.writeHead(action.status, { "content-type": "application/json", ...action.headers });
        res.end(JSON.stringify(action.json));
        return;
      }
      const upstream = request(`${target}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
        entry.answer = { status: answer.statusCode ?? 502, headers: answer.headers };
        if (action === "lose-answer") {
          // The server has answered, so its work is committed; the client sees its connection cut.
          answer.resume();
          answer.on("end", () => req.socket.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
