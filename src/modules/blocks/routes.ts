// Blocks (§4.18): the caller's own list of blocked users.
import Type from "typebox";
import type { App } from "../../app.js";
import { badRequest } from "../../http/errors.js";
import { IdParams, op } from "../../http/openapi.js";
import { Deleted, Envelope, Nullable, ok, pathId, positiveInt } from "../../http/schema.js";
import { User, userView } from "../users/views.js";
import { createBlock, deleteBlockById, deleteBlockOfUser, roomBlock } from "./actions.js";
import { blockedUsers } from "./queries.js";
import { whoKnowsWhom } from "../users/queries.js";
import { Block, blockView } from "./views.js";

const DeletedResponse = { 200: Envelope(Deleted) };

export default async function blockRoutes(app: App): Promise<void> {
  const { ctx } = app;
  const config = { auth: "device" as const };
  const tags = ["Block"];

  app.get(
    "/api/messenger/blocks",
    {
      config,
      schema: op({
        operationId: "listBlockedUsers",
        tags,
        summary: "Users the caller blocked",
        description: "Blocks apply in private rooms: the blocked user's new messages are not delivered to the caller, and the caller cannot post, edit or react there.",
        response: { 200: Envelope(Type.Object({ blockedUsers: Type.Array(User) })) },
      }),
    },
    async (request) => {
      const viewerId = request.auth.user.id;
      const users = await blockedUsers(ctx.db, viewerId);
      const knows = await whoKnowsWhom(
        ctx.db,
        ctx.config.teamMode,
        [viewerId],
        users.map((u) => u.id),
      );
      return ok({ blockedUsers: users.map((u) => userView(u, knows(viewerId, u.id))) });
    },
  );

  app.post(
    "/api/messenger/blocks",
    {
      config,
      schema: op({
        operationId: "blockUser",
        tags,
        summary: "Block a user (idempotent)",
        description: "`blockedId`: the user to block (a JSON number; a numeric string is accepted too). Blocking again returns the existing block.",
        errors: { 400: ["blockedId must be number", "You can't block yourself"], 404: ["User not found"] },
        // A JSON number; a numeric string is accepted too (upstream parses it).
        body: Type.Optional(Type.Object({ blockedId: Type.Optional(Type.Unknown()) })),
        response: { 200: Envelope(Type.Object({ block: Block })) },
      }),
    },
    async (request) => {
      const blockedId = positiveInt(request.body?.blockedId);
      if (blockedId === null) throw badRequest("blockedId must be number");
      return ok({ block: blockView(await createBlock(ctx, request.auth, blockedId)) });
    },
  );

  app.delete(
    "/api/messenger/blocks/:id",
    {
      config,
      schema: op({
        operationId: "deleteBlock",
        tags,
        summary: "Remove one of the caller's blocks by its id",
        description: "A no-op (still `deleted: true`) when the caller has no block with that id.",
        params: IdParams("id"),
        response: DeletedResponse,
        errors: { 400: ["id must be number"] },
      }),
    },
    async (request) => {
      await deleteBlockById(ctx, request.auth, pathId(request.params.id, "id"));
      return ok({ deleted: true });
    },
  );

  app.delete(
    "/api/messenger/blocks/userId/:userId",
    {
      config,
      schema: op({
        operationId: "unblockUser",
        tags,
        summary: "Unblock a user",
        description: "A no-op (still `deleted: true`) when the caller has not blocked that user. Messages missed while blocked are not delivered afterwards.",
        params: IdParams("userId"),
        response: DeletedResponse,
        errors: { 400: ["userId must be number"] },
      }),
    },
    async (request) => {
      await deleteBlockOfUser(ctx, request.auth, pathId(request.params.userId, "userId"));
      return ok({ deleted: true });
    },
  );

  app.get(
    "/api/messenger/blocks/rooms/:roomId",
    {
      config,
      schema: op({
        operationId: "getRoomBlock",
        tags,
        summary: "The caller's block of the other member of a private room, or null",
        description: "null for group rooms and when the caller blocked nobody in the room. Members only.",
        params: IdParams("roomId"),
        response: { 200: Envelope(Type.Object({ block: Nullable(Block) })) },
        errors: { 400: ["roomId must be number"], 404: ["Chat not found"] },
      }),
    },
    async (request) => {
      const block = await roomBlock(ctx.db, pathId(request.params.roomId, "roomId"), request.auth.user.id);
      return ok({ block: block && blockView(block) });
    },
  );
}
