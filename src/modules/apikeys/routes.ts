// Room API keys (§4.17): admins of a room, or either member of a private room.
import Type from "typebox";
import type { App } from "../../app.js";
import { badRequest } from "../../http/errors.js";
import { Envelope, ok, positiveInt } from "../../http/schema.js";
import { createApiKey, deleteApiKey, updateApiKey } from "./actions.js";
import { managedRoom } from "../webhooks/actions.js";
import { apiKeysOfRoom } from "./queries.js";
import { ApiKey, apiKeyView } from "./views.js";

const NameBody = Type.Object({ displayName: Type.String({ maxLength: 256 }) });
const RoomParams = Type.Object({ roomId: Type.String() });
const IdParams = Type.Object({ id: Type.String() });
const ApiKeyResponse = { 200: Envelope(Type.Object({ apiKey: ApiKey })) };

/** Path ids are validated like bodies: before any lookup, a malformed one is a 400. */
function pathId(value: string, name: string): number {
  const id = positiveInt(value);
  if (id === null) throw badRequest(`${name} must be number`);
  return id;
}

export default async function apiKeyRoutes(app: App): Promise<void> {
  const { ctx } = app;
  const config = { auth: "device" as const };
  const tags = ["ApiKey"];

  app.get(
    "/api/messenger/api-keys/roomId/:roomId",
    {
      config,
      schema: { tags, summary: "API keys of a room", params: RoomParams, response: { 200: Envelope(Type.Object({ apiKeys: Type.Array(ApiKey) })) } },
    },
    async (request) => {
      const room = await managedRoom(ctx.db, pathId(request.params.roomId, "roomId"), request.auth.user.id);
      return ok({ apiKeys: (await apiKeysOfRoom(ctx.db, room.id)).map(apiKeyView) });
    },
  );

  app.post(
    "/api/messenger/api-keys/roomId/:roomId",
    { config, schema: { tags, summary: "Create an API key and its bot member", params: RoomParams, body: NameBody, response: ApiKeyResponse } },
    async (request) => {
      const roomId = pathId(request.params.roomId, "roomId");
      return ok({ apiKey: apiKeyView(await createApiKey(ctx, request.auth.user.id, roomId, request.body.displayName)) });
    },
  );

  app.put(
    "/api/messenger/api-keys/:id",
    { config, schema: { tags, summary: "Rename an API key's bot", params: IdParams, body: NameBody, response: ApiKeyResponse } },
    async (request) => ok({ apiKey: apiKeyView(await updateApiKey(ctx, request.auth.user.id, pathId(request.params.id, "id"), request.body.displayName)) }),
  );

  app.delete(
    "/api/messenger/api-keys/:id",
    {
      config,
      schema: {
        tags,
        summary: "Delete an API key (its bot leaves the room)",
        params: IdParams,
        response: { 200: Envelope(Type.Object({ deleted: Type.Boolean(), roomId: Type.Integer() })) },
      },
    },
    async (request) => {
      const { roomId } = await deleteApiKey(ctx, request.auth.user.id, pathId(request.params.id, "id"));
      return ok({ deleted: true, roomId });
    },
  );
}
