// Room webhooks (§4.17): admins of a room, or either member of a private room.
import Type from "typebox";
import type { App } from "../../app.js";
import { badRequest } from "../../http/errors.js";
import { Envelope, ok, positiveInt } from "../../http/schema.js";
import { createWebhook, deleteWebhook, managedRoom, updateWebhook } from "./actions.js";
import { webhooksOfRoom } from "./queries.js";
import { Webhook, webhookView } from "./views.js";

const UrlBody = Type.Object({ url: Type.String({ maxLength: 2048 }) });
const RoomParams = Type.Object({ roomId: Type.String() });
const IdParams = Type.Object({ id: Type.String() });
const WebhookResponse = { 200: Envelope(Type.Object({ webhook: Webhook })) };

/** Path ids are validated like bodies: before any lookup, a malformed one is a 400. */
function pathId(value: string, name: string): number {
  const id = positiveInt(value);
  if (id === null) throw badRequest(`${name} must be number`);
  return id;
}

export default async function webhookRoutes(app: App): Promise<void> {
  const { ctx } = app;
  const config = { auth: "device" as const };
  const tags = ["Webhook"];

  app.get(
    "/api/messenger/webhooks/roomId/:roomId",
    {
      config,
      schema: { tags, summary: "Webhooks of a room", params: RoomParams, response: { 200: Envelope(Type.Object({ webhooks: Type.Array(Webhook) })) } },
    },
    async (request) => {
      const room = await managedRoom(ctx.db, pathId(request.params.roomId, "roomId"), request.auth.user.id);
      return ok({ webhooks: (await webhooksOfRoom(ctx.db, room.id)).map(webhookView) });
    },
  );

  app.post(
    "/api/messenger/webhooks/roomId/:roomId",
    { config, schema: { tags, summary: "Add a webhook to a room", params: RoomParams, body: UrlBody, response: WebhookResponse } },
    async (request) => {
      const roomId = pathId(request.params.roomId, "roomId");
      return ok({ webhook: webhookView(await createWebhook(ctx, request.auth.user.id, roomId, request.body.url)) });
    },
  );

  app.put(
    "/api/messenger/webhooks/:id",
    { config, schema: { tags, summary: "Change a webhook's url", params: IdParams, body: UrlBody, response: WebhookResponse } },
    async (request) => ok({ webhook: webhookView(await updateWebhook(ctx, request.auth.user.id, pathId(request.params.id, "id"), request.body.url)) }),
  );

  app.delete(
    "/api/messenger/webhooks/:id",
    { config, schema: { tags, summary: "Remove a webhook", params: IdParams, response: { 200: Envelope(Type.Object({ deleted: Type.Boolean() })) } } },
    async (request) => {
      await deleteWebhook(ctx, request.auth.user.id, pathId(request.params.id, "id"));
      return ok({ deleted: true });
    },
  );
}
