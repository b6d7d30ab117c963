// The caller's account and other users (§3.6–§3.11).
import Type from "typebox";
import type { App } from "../../app.js";
import { notFound } from "../../http/errors.js";
import { Envelope, IntId, ok, positiveInt, requiredNumber, syncPage } from "../../http/schema.js";
import { deleteMe, updateMe } from "./actions.js";
import { findUser, findVisibleUser, userSettings, usersModifiedSince, whoKnowsWhom } from "./queries.js";
import { User, userView } from "./views.js";

const SYNC_LIMIT = 100;

const UserSetting = Type.Object({
  id: Type.Integer(),
  userId: Type.Integer(),
  key: Type.String(),
  value: Type.String(),
  createdAt: Type.String({ description: "ISO-8601 (raw row, §1.4)" }),
  modifiedAt: Type.String(),
});

export default async function userRoutes(app: App): Promise<void> {
  const { ctx } = app;
  const auth = { auth: "device" as const };
  const userResponse = { 200: Envelope(Type.Object({ user: User })) };

  app.get("/api/messenger/me", { config: auth, schema: { tags: ["User"], summary: "The caller", response: userResponse } }, async (request) => {
    const user = await findUser(ctx.db, request.auth.user.id);
    return ok({ user: userView(user ?? request.auth.user) });
  });

  app.put(
    "/api/messenger/me",
    {
      config: auth,
      schema: {
        tags: ["User"],
        summary: "Update the caller's profile (omitted fields stay)",
        body: Type.Object({
          telephoneNumber: Type.Optional(Type.String({ minLength: 1 })),
          emailAddress: Type.Optional(Type.String()),
          displayName: Type.Optional(Type.String({ maxLength: 256 })),
          avatarFileId: Type.Optional(IntId({ minimum: 0, description: "0 = no avatar" })),
        }),
        response: userResponse,
      },
    },
    async (request) => ok({ user: userView(await updateMe(ctx, request.auth.user, request.body)) }),
  );

  app.delete(
    "/api/messenger/me",
    { config: auth, schema: { tags: ["User"], summary: "Delete the caller's account", response: { 200: Envelope(Type.Object({ deleted: Type.Boolean() })) } } },
    async (request) => {
      await deleteMe(ctx, request.auth.user);
      return ok({ deleted: true });
    },
  );

  app.get(
    "/api/messenger/me/settings",
    { config: auth, schema: { tags: ["User"], summary: "The caller's settings rows", response: { 200: Envelope(Type.Object({ settings: Type.Array(UserSetting) })) } } },
    async (request) => {
      const rows = await userSettings(ctx.db, request.auth.user.id);
      return ok({
        settings: rows.map((r) => ({ ...r, createdAt: new Date(r.createdAt).toISOString(), modifiedAt: new Date(r.modifiedAt).toISOString() })),
      });
    },
  );

  app.get(
    "/api/messenger/users/:id",
    { config: auth, schema: { tags: ["User"], summary: "A user the caller may see", params: Type.Object({ id: Type.String() }), response: userResponse } },
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
      schema: {
        tags: ["User", "Sync"],
        summary: "Users modified after a time (ms)",
        params: Type.Object({ timestamp: Type.String() }),
        querystring: Type.Object({ page: Type.Optional(Type.String()) }),
        response: {
          200: Envelope(
            Type.Object({ list: Type.Array(User), users: Type.Array(User), count: Type.Integer(), limit: Type.Integer(), hasNext: Type.Boolean() }),
          ),
        },
      },
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
      const me = request.auth.user.id;
      const knows = await whoKnowsWhom(ctx.db, ctx.config.teamMode, [me], list.map((u) => u.id));
      const users = list.map((u) => userView(u, knows(me, u.id)));
      return ok({ list: users, users, count, limit: SYNC_LIMIT, hasNext: count > page * SYNC_LIMIT });
    },
  );
}
