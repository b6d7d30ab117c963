// Room webhooks (§4.17): admins of a room, or either member of a private room.
import Type from "typebox";
import type { App } from "../../app.js";
import { IdParams, op } from "../../http/openapi.js";
import { Deleted, Envelope, ok, pathId } from "../../http/schema.js";
import { createWebhook, deleteWebhook, listWebhooks, NOT_ALLOWED, updateWebhook } from "./actions.js";
import { Webhook, webhookView } from "./views.js";

const UrlBody = Type.Object({ url: Type.String({ maxLength: 2048 }) });
const RoomParams = IdParams("roomId");
const HookParams = IdParams("id");
const WHO = "Admins of the room, or either member of a private room.";
const WebhookResponse = { 200: Envelope(Type.Object({ webhook: Webhook })) };

export default async function webhookRoutes(app: App): Promise<void> {
  const { ctx } = app;
  const config = { auth: "device" as const };
  const tags = ["Webhook"];

  app.get(
    "/api/messenger/webhooks/roomId/:roomId",
    {
      config,
      schema: op({
        operationId: "listWebhooks",
        tags,
        summary: "Webhooks of a room",
        description: WHO,
        params: RoomParams,
        response: { 200: Envelope(Type.Object({ webhooks: Type.Array(Webhook) })) },
        errors: { 400: ["roomId must be number"], 403: [NOT_ALLOWED] },
      }),
    },
    async (request) => {
      return ok({ webhooks: (await listWebhooks(ctx.db, pathId(request.params.roomId, "roomId"), request.auth.user.id)).map(webhookView) });
    },
  );

  app.post(
    "/api/messenger/webhooks/roomId/:roomId",
    {
      config,
      schema: op({
        operationId: "createWebhook",
        tags,
        summary: "Add a webhook to a room",
        description: `${WHO} Every new non-system message of the room is POSTed to \`url\` (a dotted domain or an IPv4 address; \`localhost\` is refused) with the headers \`Verification-Signature\` (= \`verifySignature\`) and \`X-Spika-Signature\` (\`sha256=\` HMAC of the body keyed with it).`,
        params: RoomParams,
        body: UrlBody,
        response: WebhookResponse,
        errors: { 400: ["roomId must be number", "Url not valid"], 403: [NOT_ALLOWED] },
      }),
    },
    async (request) => {
      const roomId = pathId(request.params.roomId, "roomId");
      return ok({ webhook: webhookView(await createWebhook(ctx, request.auth, roomId, request.body.url)) });
    },
  );

  app.put(
    "/api/messenger/webhooks/:id",
    {
      config,
      schema: op({
        operationId: "updateWebhook",
        tags,
        summary: "Change a webhook's url",
        description: WHO,
        params: HookParams,
        body: UrlBody,
        response: WebhookResponse,
        errors: { 400: ["id must be number", "Url not valid"], 403: [NOT_ALLOWED], 404: ["Not found"] },
      }),
    },
    async (request) => ok({ webhook: webhookView(await updateWebhook(ctx, request.auth, pathId(request.params.id, "id"), request.body.url)) }),
  );

  app.delete(
    "/api/messenger/webhooks/:id",
    {
      config,
      schema: op({
        operationId: "deleteWebhook",
        tags,
        summary: "Remove a webhook",
        description: WHO,
        params: HookParams,
        response: { 200: Envelope(Deleted) },
        errors: { 400: ["id must be number"], 403: [NOT_ALLOWED], 404: ["Not found"] },
      }),
    },
    async (request) => {
      await deleteWebhook(ctx, request.auth, pathId(request.params.id, "id"));
      return ok({ deleted: true });
    },
  );
}
