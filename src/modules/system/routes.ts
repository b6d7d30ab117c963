// Liveness and test routes (§1.1, §11, §13b).
import { sql } from "kysely";
import Type from "typebox";
import type { App } from "../../app.js";
import { op } from "../../http/openapi.js";
import { Envelope, ok } from "../../http/schema.js";
import { storeFor } from "../../storage/index.js";

export default async function systemRoutes(app: App): Promise<void> {
  const { ctx } = app;

  app.get(
    "/health",
    {
      schema: op({
        operationId: "getHealth",
        tags: ["System"],
        summary: "Health: 200 once the database answers; status degraded while Redis or the file store is unreachable",
        description:
          'For load balancers and orchestrators. `status` is `ok`, or `degraded` while Redis is unreachable (requests keep working; only other instances\' streams miss events) or while the file store is unreachable (file routes answer 503). 503 `{status: "error", message: "database unreachable"}` when the database does not answer.',
        response: {
          200: Type.Object({ status: Type.String(), message: Type.Optional(Type.String()) }),
          503: Type.Object({ status: Type.String(), message: Type.String() }, { description: "The database does not answer" }),
        },
      }),
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

  const text = { content: { "text/plain": { schema: { type: "string", const: "test" } } } };
  const liveness = op({
    operationId: "getTest",
    tags: ["System"],
    summary: "Liveness (plain text)",
    description: "Answers the plain-text body `test` while the process serves requests; touches nothing.",
    responses: { 200: { description: "The text `test`", ...text } },
  });
  app.get("/api/test", { schema: liveness }, async (_request, reply) => reply.type("text/plain; charset=utf-8").send("test"));

  for (const [path, operationId] of [
    ["/api/messenger/test", "getMessengerTest"],
    ["/api/messaging/test", "getMessagingTest"],
  ]) {
    const schema = op({
      operationId,
      tags: ["System"],
      summary: "Liveness (envelope)",
      description: 'Answers `{status: "success", data: "test"}`; touches nothing.',
      response: { 200: Envelope(Type.String()) },
    });
    app.get(path, { schema }, async () => ok("test"));
  }
}
