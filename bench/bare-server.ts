// The machine's limits, measured with the same tools as the server: a bare node:http process.
//   http  answers every request with a small JSON body (the HTTP limit);
//   sse   GET /sse opens an event stream; POST /send writes one small event, carrying the
//         posted body.text, to every open stream and then answers (the fan-out limit).
// Prints {"url": …} on stdout when listening, like the server's ready line.
import http from "node:http";

const mode = process.argv[2];
const streams = new Set<http.ServerResponse>();
const HELLO = JSON.stringify({ status: "success", data: { hello: "world" } });
/** Diagnostics: pad each broadcast event to about this many bytes (BENCH_BROADCAST_PAD). */
const PAD = "x".repeat(Number(process.env.BENCH_BROADCAST_PAD ?? 0));

const server = http.createServer((req, res) => {
  if (mode === "http") {
    res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
    res.end(HELLO);
    return;
  }
  if (req.method === "GET" && req.url === "/sse") {
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive" });
    req.socket.setNoDelay(true);
    streams.add(res);
    res.on("close", () => streams.delete(res));
    res.write('data: {"type":"PING"}\n\n');
    return;
  }
  if (req.method === "POST" && req.url === "/send") {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      const text = (JSON.parse(body) as { body?: { text?: string } }).body?.text ?? "";
      const frame = `data: ${JSON.stringify({ type: "NEW_MESSAGE", message: { body: { text } }, ...(PAD ? { pad: PAD } : {}) })}\n\n`;
      for (const s of streams) if (!s.destroyed) s.write(frame);
      res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
      res.end(HELLO);
    });
    return;
  }
  res.writeHead(404).end();
});

server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as { port: number };
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${port}` }) + "\n");
});

const stop = () => {
  for (const s of streams) s.end();
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
