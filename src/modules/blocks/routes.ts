// Blocks (§4.18): the caller's own list of blocked users.
import Type from "typebox";
import type { App } from "../../app.js";
import { badRequest } from "../../http/errors.js";
import { Envelope, Nullable, ok, positiveInt } from "../../http/schema.js";
import { User, userView } from "../users/views.js";
import { createBlock, deleteBlockById, deleteBlockOfUser, roomBlock } from "./actions.js";
import { blockedUsers } from "./queries.js";
import { whoKnowsWhom } from "../users/queries.js";
import { Block, blockView } from "./views.js";

const Deleted = { 200: Envelope(Type.Object({ deleted: Type.Boolean() })) };

/** Path ids are validated like bodies: before any lookup, a malformed one is a 400. */
function pathId(value: string, name: string): number {
  const id = positiveInt(value);
  if (id === null) throw badRequest(`${name} must be number`);
  return id;
}

export default async function blockRoutes(app: App): Promise<void> {
  const { ctx } = app;
  const config = { auth: "device" as const };
  const tags = ["Block"];

  app.get(
    "/api/messenger/blocks",
    { config, schema: { tags, summary: "Users the caller blocked", response: { 200: Envelope(Type.Object({ blockedUsers: Type.Array(User) })) } } },
    async (request) => {
      const me = request.auth.user.id;
      const users = await blockedUsers(ctx.db, me);
      const knows = await whoKnowsWhom(ctx.db, ctx.config.teamMode, [me], users.map((u) => u.id));
      return ok({ blockedUsers: users.map((u) => userView(u, knows(me, u.id))) });
    },
  );

  app.post(
    "/api/messenger/blocks",
    {
      config,
      schema: {
        tags,
        summary: "Block a user (idempotent)",
        // A JSON number; a numeric string is accepted too (upstream parses it).
        body: Type.Optional(Type.Object({ blockedId: Type.Optional(Type.Unknown()) })),
        response: { 200: Envelope(Type.Object({ block: Block })) },
      },
    },
    async (request) => {
      const blockedId = positiveInt(request.body?.blockedId);
      if (blockedId === null) throw badRequest("blockedId must be number");
      return ok({ block: blockView(await createBlock(ctx, request.auth.user.id, blockedId)) });
    },
  );

  app.delete(
    "/api/messenger/blocks/:id",
    { config, schema: { tags, summary: "Remove one of the caller's blocks by its id", params: Type.Object({ id: Type.String() }), response: Deleted } },
    async (request) => {
      await deleteBlockById(ctx, request.auth.user.id, pathId(request.params.id, "id"));
      return ok({ deleted: true });
    },
  );

  app.delete(
    "/api/messenger/blocks/userId/:userId",
    { config, schema: { tags, summary: "Unblock a user", params: Type.Object({ userId: Type.String() }), response: Deleted } },
    async (request) => {
      await deleteBlockOfUser(ctx, request.auth.user.id, pathId(request.params.userId, "userId"));
      return ok({ deleted: true });
    },
  );

  app.get(
    "/api/messenger/blocks/rooms/:roomId",
    {
      config,
      schema: {
        tags,
        summary: "The caller's block of the other member of a private room, or null",
        params: Type.Object({ roomId: Type.String() }),
        response: { 200: Envelope(Type.Object({ block: Nullable(Block) })) },
      },
    },
    async (request) => {
      const block = await roomBlock(ctx.db, pathId(request.params.roomId, "roomId"), request.auth.user.id);
      return ok({ block: block && blockView(block) });
    },
  );
}
