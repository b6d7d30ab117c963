// The caller's account and other users (§3.6–§3.11).
import Type from "typebox";
import type { App } from "../../app.js";
import { SYNC_LIMIT } from "../../db/count.js";
import { notFound } from "../../http/errors.js";
import { IntText, IdParams, MsText, model, op } from "../../http/openapi.js";
import { Envelope, IntId, ok, positiveInt, requiredNumber, SyncPage, syncPage } from "../../http/schema.js";
import { deleteMe, updateMe } from "./actions.js";
import { findUser, findVisibleUser, userSettings, usersModifiedSince, whoKnowsWhom } from "./queries.js";
import { User, userView } from "./views.js";

const UserSetting = model(
  "UserSetting",
  Type.Object({
    id: Type.Integer(),
    userId: Type.Integer(),
    key: Type.String(),
    value: Type.String(),
    createdAt: Type.String({ description: "ISO-8601 (raw row, §1.4)" }),
    modifiedAt: Type.String(),
  }),
);

export default async function userRoutes(app: App): Promise<void> {
  const { ctx } = app;
  const auth = { auth: "device" as const };
  const userResponse = { 200: Envelope(Type.Object({ user: User })) };

  const getMe = op({ operationId: "getMe", tags: ["User"], summary: "The caller", description: "The caller's own User.", response: userResponse });
  app.get("/api/messenger/me", { config: auth, schema: getMe }, async (request) => {
    const user = await findUser(ctx.db, request.auth.user.id);
    return ok({ user: userView(user ?? request.auth.user) });
  });

  app.put(
    "/api/messenger/me",
    {
      config: auth,
      schema: op({
        operationId: "updateMe",
        tags: ["User"],
        summary: "Update the caller's profile (omitted fields stay)",
        description:
          "Changes `displayName`, `emailAddress` (empty clears it) and `avatarFileId`; `telephoneNumber` may only be sent unchanged (a new number needs a new sign-up). Other users who can see the caller get `USER_UPDATE`.",
        errors: {
          400: ["User with that email exists", "User with that telephoneNumber exists"],
          403: ["Changing the telephone number requires verification"],
        },
        body: Type.Object({
          telephoneNumber: Type.Optional(Type.String({ minLength: 1 })),
          emailAddress: Type.Optional(Type.String()),
          displayName: Type.Optional(Type.String({ maxLength: 256 })),
          avatarFileId: Type.Optional(IntId({ minimum: 0, description: "0 = no avatar" })),
        }),
        response: userResponse,
      }),
    },
    async (request) => ok({ user: userView(await updateMe(ctx, request.auth, request.auth.user, request.body)) }),
  );

  app.delete(
    "/api/messenger/me",
    {
      config: auth,
      schema: op({
        operationId: "deleteMe",
        tags: ["User"],
        summary: "Delete the caller's account",
        description:
          "Marks the user deleted (name `Deleted user <id>`, phone and email cleared), removes its devices (tokens stop working), contacts, blocks, settings and group memberships (private rooms stay for the peer), and announces `USER_UPDATE`.",
        response: { 200: Envelope(Type.Object({ deleted: Type.Boolean() })) },
      }),
    },
    async (request) => {
      await deleteMe(ctx, request.auth, request.auth.user);
      return ok({ deleted: true });
    },
  );

  app.get(
    "/api/messenger/me/settings",
    {
      config: auth,
      schema: op({
        operationId: "getMySettings",
        tags: ["User"],
        summary: "The caller's settings rows",
        description: 'Raw rows with ISO-8601 times: `mute_<roomId>` and `pin_<roomId>` with value `"true"`.',
        response: { 200: Envelope(Type.Object({ settings: Type.Array(UserSetting) })) },
      }),
    },
    async (request) => {
      const rows = await userSettings(ctx.db, request.auth.user.id);
      return ok({
        settings: rows.map((r) => ({ ...r, createdAt: new Date(r.createdAt).toISOString(), modifiedAt: new Date(r.modifiedAt).toISOString() })),
      });
    },
  );

  app.get(
    "/api/messenger/users/:id",
    {
      config: auth,
      schema: op({
        operationId: "getUser",
        tags: ["User"],
        summary: "A user the caller may see",
        description: "In team mode every user; in contact mode the caller and the caller's contacts.",
        params: IdParams("id"),
        response: userResponse,
        errors: { 404: ["User not found"] },
      }),
    },
    async (request) => {
      const id = positiveInt(request.params.id);
      const user = id === null ? undefined : await findVisibleUser(ctx.db, ctx.config.teamMode, request.auth.user.id, id);
      if (!user) throw notFound("User not found");
      return ok({ user: userView(user) });
    },
  );

  app.get(
    "/api/messenger/users/sync/:timestamp",
    {
      config: auth,
      schema: op({
        operationId: "syncUsers",
        tags: ["User", "Sync"],
        summary: "Users modified after a time (ms)",
        description: `Users the caller may see whose \`modifiedAt\` is after \`timestamp\`, ${SYNC_LIMIT} per page; ask the next page while \`hasNext\`.`,
        params: Type.Object({ timestamp: MsText() }),
        querystring: Type.Object({ page: Type.Optional(IntText("1-based page")) }),
        response: { 200: Envelope(SyncPage("UserSyncPage", User, "users")) },
        errors: { 400: ["timestamp must be number", "page must be number"] },
      }),
    },
    async (request) => {
      const since = requiredNumber(request.params.timestamp, "timestamp");
      const page = syncPage(request.query.page);
      const { list, count } = await usersModifiedSince(ctx.db, {
        teamMode: ctx.config.teamMode,
        requesterId: request.auth.user.id,
        since,
        page,
        limit: SYNC_LIMIT,
      });
      const viewerId = request.auth.user.id;
      const knows = await whoKnowsWhom(
        ctx.db,
        ctx.config.teamMode,
        [viewerId],
        list.map((u) => u.id),
      );
      const users = list.map((u) => userView(u, knows(viewerId, u.id)));
      return ok({ list: users, users, count, limit: SYNC_LIMIT, hasNext: count > page * SYNC_LIMIT });
    },
  );
}
