// GET /api/sse (§6): one stream per request, addressed to the caller's device.
import Type from "typebox";
import type { App } from "../../app.js";
import { logAccess } from "../../log.js";

export default async function sseRoutes(app: App): Promise<void> {
  const { hub } = app.ctx;

  app.get(
    "/api/sse",
    {
      config: { auth: "device", tokenInQuery: true },
      schema: {
        tags: ["Events"],
        summary: "Server-sent events of the caller's device (token in the accesstoken header or query)",
        querystring: Type.Object({ accesstoken: Type.Optional(Type.String()), accessToken: Type.Optional(Type.String()) }),
      },
    },
    async (request, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        "Content-Type": "text/event-stream",
        "Cache-Control": "no-cache",
        Connection: "keep-alive",
        "X-Accel-Buffering": "no",
      });
      // The headers go out now; the hub writes the body on the socket itself (src/realtime/hub.ts).
      res.flushHeaders();
      const socket = request.raw.socket;
      socket.setNoDelay(true);
      socket.setKeepAlive(true);
      const stream = { deviceId: request.auth.device.id, userId: request.auth.user.id, socket, chunked: res.chunkedEncoding };
      socket.on("close", () => {
        hub.remove(stream);
        // A hijacked reply has no onResponse hook: the stream's access line, with its lifetime.
        logAccess(request, 200, reply.elapsedTime);
      });
      hub.add(stream);
    },
  );
}
