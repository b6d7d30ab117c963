// Liveness and test routes (§1.1, §11, §13b).
import { sql } from "kysely";
import Type from "typebox";
import type { App } from "../../app.js";
import { Envelope, ok } from "../../http/schema.js";
import { storeFor } from "../../storage/index.js";

export default async function systemRoutes(app: App): Promise<void> {
  const { ctx } = app;

  app.get(
    "/health",
    {
      schema: {
        tags: ["System"],
        summary: "Health: 200 once the database answers; status degraded while Redis or the file store is unreachable",
        response: {
          200: Type.Object({ status: Type.String(), message: Type.Optional(Type.String()) }),
          503: Type.Object({ status: Type.String(), message: Type.String() }),
        },
      },
    },
    async (_request, reply) => {
      try {
        await sql`select 1`.execute(ctx.db);
      } catch (err) {
        ctx.log.error({ err }, "health check: database unreachable");
        return reply.code(503).send({ status: "error", message: "database unreachable" });
      }
      // Requests keep working without Redis; only other instances' streams miss events.
      if (!ctx.bus.healthy()) return { status: "degraded", message: "redis unreachable: real-time events stay on this instance" };
      // Without the file store only file routes fail (503); the rest of the API keeps working.
      try {
        await storeFor(ctx.config).ping();
      } catch (err) {
        ctx.log.warn({ err }, "health check: file store unreachable");
        return { status: "degraded", message: "file store unreachable: file uploads and downloads answer 503" };
      }
      return { status: "ok" };
    },
  );

  app.get("/api/test", { schema: { tags: ["System"], summary: "Liveness (plain text)" } }, async (_request, reply) =>
    reply.type("text/plain; charset=utf-8").send("test"),
  );

  for (const path of ["/api/messenger/test", "/api/messaging/test"]) {
    app.get(path, { schema: { tags: ["System"], summary: "Liveness (envelope)", response: { 200: Envelope(Type.String()) } } }, async () =>
      ok("test"),
    );
  }
}
