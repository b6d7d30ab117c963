// The management API under /api/management (docs/management.md): what the official Spika admin
// app calls, plus sign-out and the audit trail. Registered only when ADMIN_USERNAME is set.
import Type from "typebox";
import type { App } from "../../app.js";
import { notFound } from "../../http/errors.js";
import { Envelope, IntId, Nullable, ok, pageOf, pathId } from "../../http/schema.js";
import { IdParams } from "../../http/openapi.js";
import { auditPage } from "../audit/queries.js";
import { logout } from "../auth/actions.js";
import { createRoom, deleteRoom, updateRoom } from "../rooms/actions.js";
import { membership } from "../rooms/queries.js";
import { Room } from "../rooms/views.js";
import { createAccount, deleteMe, updateMe } from "../users/actions.js";
import { createBot, operatorOf, renewBotToken, signIn, signOut } from "./actions.js";
import { accountById, counts, devicesOf, groupById, groupsOf, listAccounts, listGroups } from "./queries.js";
import { AdminDevice, AdminUser, AuditEntry, Bot, Paged, adminDeviceView, adminUserView, auditEntryView, botView } from "./views.js";

const PREFIX = "/api/management";
const Text = (max = 191) => Type.String({ maxLength: max });
const Name = Type.String({ minLength: 1, maxLength: 191 });
const FileId = IntId({ minimum: 0 });
const ListQuery = Type.Object({ page: Type.Optional(Type.String()), keyword: Type.Optional(Type.String({ maxLength: 191 })), bots: Type.Optional(Type.String()) });
const WebhookUrl = Type.String({ maxLength: 2048, pattern: "^(https?://\\S+)?$", description: "http(s) URL; empty clears it" });
const BotFields = {
  webhookUrl: Type.Optional(Nullable(WebhookUrl)),
  shortDescription: Type.Optional(Nullable(Text(1000))),
  longDescription: Type.Optional(Nullable(Text(10000))),
  avatarFileId: Type.Optional(FileId),
  coverFileId: Type.Optional(Nullable(FileId)),
};
const UserAnswer = { 200: Envelope(Type.Object({ user: AdminUser })) };
const BotAnswer = { 200: Envelope(Type.Object({ user: Bot })) };
const GroupAnswer = { 200: Envelope(Type.Object({ group: Room })) };

const UserParams = IdParams("userId");
const GroupParams = IdParams("groupId");

export default async function managementRoutes(app: App): Promise<void> {
  const { ctx } = app;
  const config = { auth: "admin" as const };
  const tags = ["Management"];

  /** The account behind a path id, deleted ones too (404 for ids that never existed). */
  const account = async (value: string) => {
    const user = await accountById(ctx.db, pathId(value, "userId"));
    if (!user) throw notFound("User not found");
    return user;
  };
  const liveAccount = async (value: string) => {
    const user = await account(value);
    if (user.deleted === 1) throw notFound("User not found");
    return user;
  };
  const bot = async (value: string) => {
    const user = await liveAccount(value);
    if (user.isBot !== 1) throw notFound("Bot not found");
    return user;
  };
  const group = async (value: string) => {
    const found = await groupById(ctx.db, pathId(value, "groupId"));
    if (!found) throw notFound("Group not found");
    return found;
  };

  // Sign-in, check, sign-out.
  app.post(
    `${PREFIX}/auth`,
    {
      schema: {
        tags,
        summary: "Sign in as the administrator (rate-limited per IP)",
        body: Type.Object({ username: Text(), password: Text(1024) }),
        response: { 200: Envelope(Type.Object({ token: Type.String(), expireDate: Type.Integer() })) },
      },
    },
    async (request) => ok(await signIn(ctx, { ...request.body, ip: request.ip })),
  );

  app.get(
    `${PREFIX}/auth/check`,
    { config, schema: { tags, summary: "Whether the admin token is valid", response: { 200: Envelope(Type.Object({ valid: Type.Boolean() })) } } },
    async () => ok({ valid: true }),
  );

  app.post(
    `${PREFIX}/auth/logout`,
    { config, schema: { tags, summary: "Sign out: the admin token dies", response: { 200: Envelope(Type.Object({ loggedOut: Type.Boolean() })) } } },
    async (request) => {
      await signOut(ctx, request.admin);
      return ok({ loggedOut: true });
    },
  );

  app.get(
    `${PREFIX}/counts`,
    {
      config,
      schema: { tags, summary: "Live users, bots and groups", response: { 200: Envelope(Type.Object({ users: Type.Integer(), bots: Type.Integer(), groups: Type.Integer() })) } },
    },
    async () => ok(await counts(ctx.db)),
  );

  // Users.
  app.get(
    `${PREFIX}/users`,
    { config, schema: { tags, summary: "Live users (bots=1: bots) by name; keyword in the name", querystring: ListQuery, response: { 200: Envelope(Paged(AdminUser)) } } },
    async (request) => {
      const { page, keyword, bots } = request.query;
      const found = await listAccounts(ctx.db, { page: pageOf(page), keyword: keyword || undefined, bots: bots === "1" || bots === "true", dialect: ctx.dialect });
      return ok({ ...found, list: found.list.map(adminUserView) });
    },
  );

  app.post(
    `${PREFIX}/users`,
    {
      config,
      schema: {
        tags,
        summary: "Create a verified user",
        body: Type.Object({ displayName: Name, telephoneNumber: Type.String({ minLength: 1, maxLength: 191 }), emailAddress: Type.Optional(Nullable(Text())), avatarFileId: Type.Optional(FileId) }),
        response: UserAnswer,
      },
    },
    async (request) => {
      const { emailAddress, ...rest } = request.body;
      return ok({ user: adminUserView(await createAccount(ctx, operatorOf(request.admin), { ...rest, emailAddress: emailAddress ?? undefined })) });
    },
  );

  app.get(`${PREFIX}/users/:userId`, { config, schema: { tags, summary: "A user (deleted ones too)", params: UserParams, response: UserAnswer } }, async (request) =>
    ok({ user: adminUserView(await account(request.params.userId)) }),
  );

  app.put(
    `${PREFIX}/users/:userId`,
    {
      config,
      schema: {
        tags,
        summary: "Edit a user (USER_UPDATE to those who see them)",
        params: UserParams,
        body: Type.Object({
          displayName: Type.Optional(Name),
          emailAddress: Type.Optional(Nullable(Text())),
          telephoneNumber: Type.Optional(Type.String({ minLength: 1, maxLength: 191 })),
          avatarFileId: Type.Optional(FileId),
          verified: Type.Optional(Type.Boolean()),
        }),
        response: UserAnswer,
      },
    },
    async (request) => {
      const user = await liveAccount(request.params.userId);
      const { emailAddress, ...rest } = request.body;
      const changes = { ...rest, ...(emailAddress !== undefined ? { emailAddress: emailAddress ?? "" } : {}) };
      return ok({ user: adminUserView(await updateMe(ctx, user, changes, operatorOf(request.admin))) });
    },
  );

  app.delete(
    `${PREFIX}/users/:userId`,
    {
      config,
      schema: { tags, summary: "Delete a user as DELETE /me does", params: UserParams, response: { 200: Envelope(Type.Object({ deleted: Type.Boolean() })) } },
    },
    async (request) => {
      await deleteMe(ctx, await liveAccount(request.params.userId), operatorOf(request.admin));
      return ok({ deleted: true });
    },
  );

  app.get(
    `${PREFIX}/users/:userId/groups`,
    { config, schema: { tags, summary: "The groups of a user", params: UserParams, response: { 200: Envelope(Type.Object({ rooms: Type.Array(Room) })) } } },
    async (request) => ok({ rooms: await groupsOf(ctx.db, (await account(request.params.userId)).id) }),
  );

  app.get(
    `${PREFIX}/users/:userId/devices`,
    { config, schema: { tags, summary: "The devices of a user", params: UserParams, response: { 200: Envelope(Type.Object({ devices: Type.Array(AdminDevice) })) } } },
    async (request) => ok({ devices: (await devicesOf(ctx.db, (await account(request.params.userId)).id)).map((d) => adminDeviceView(d)) }),
  );

  app.put(
    `${PREFIX}/users/:userId/devices/:deviceId/expire`,
    {
      config,
      schema: {
        tags,
        summary: "Log a device out: its token dies, its streams close",
        params: Type.Object({ userId: Type.String(), deviceId: Type.String() }),
        response: { 200: Envelope(Type.Object({ expired: Type.Boolean() })) },
      },
    },
    async (request) => {
      const userId = pathId(request.params.userId, "userId");
      await logout(ctx, pathId(request.params.deviceId, "deviceId"), { operator: operatorOf(request.admin), userId });
      return ok({ expired: true });
    },
  );

  // Bots.
  app.post(
    `${PREFIX}/users/bot`,
    { config, schema: { tags, summary: "Create a bot; its access token is in the answer only", body: Type.Object({ displayName: Name, ...BotFields }), response: BotAnswer } },
    async (request) => {
      const { webhookUrl, shortDescription, longDescription, coverFileId, ...rest } = request.body;
      const created = await createBot(ctx, operatorOf(request.admin), {
        ...rest,
        webhookUrl: webhookUrl || undefined,
        shortDescription: shortDescription ?? undefined,
        longDescription: longDescription ?? undefined,
        coverFileId: coverFileId ?? undefined,
      });
      return ok({ user: botView(created.user, [created.device], created.token) });
    },
  );

  app.get(`${PREFIX}/users/bot/:userId`, { config, schema: { tags, summary: "A bot with its device", params: UserParams, response: BotAnswer } }, async (request) => {
    const user = await bot(request.params.userId);
    return ok({ user: botView(user, await devicesOf(ctx.db, user.id)) });
  });

  app.put(
    `${PREFIX}/users/bot/:userId`,
    {
      config,
      schema: { tags, summary: "Edit a bot", params: UserParams, body: Type.Object({ displayName: Type.Optional(Name), ...BotFields }), response: UserAnswer },
    },
    async (request) => {
      const user = await bot(request.params.userId);
      const { webhookUrl, ...rest } = request.body;
      const changes = { ...rest, ...(webhookUrl !== undefined ? { webhookUrl: webhookUrl || null } : {}) };
      return ok({ user: adminUserView(await updateMe(ctx, user, changes, operatorOf(request.admin))) });
    },
  );

  app.put(
    `${PREFIX}/users/bot/renewAccessToken/:userId`,
    {
      config,
      schema: { tags, summary: "A new access token for a bot (the old one dies)", params: UserParams, response: { 200: Envelope(Type.Object({ device: AdminDevice })) } },
    },
    async (request) => {
      const renewed = await renewBotToken(ctx, operatorOf(request.admin), pathId(request.params.userId, "userId"));
      return ok({ device: adminDeviceView(renewed.device, renewed.token) });
    },
  );

  // Groups.
  app.get(
    `${PREFIX}/groups`,
    { config, schema: { tags, summary: "Live groups, oldest first; keyword in the name", querystring: ListQuery, response: { 200: Envelope(Paged(Room)) } } },
    async (request) => ok(await listGroups(ctx.db, { page: pageOf(request.query.page), keyword: request.query.keyword || undefined, dialect: ctx.dialect })),
  );

  app.post(
    `${PREFIX}/groups`,
    {
      config,
      schema: {
        tags,
        summary: "Create a group (NEW_ROOM to its members)",
        body: Type.Object({
          name: Name,
          avatarFileId: Type.Optional(FileId),
          userIds: Type.Optional(Type.Array(IntId(), { maxItems: 1000 })),
          adminUserIds: Type.Optional(Type.Array(IntId(), { maxItems: 1000 })),
        }),
        response: GroupAnswer,
      },
    },
    async (request) => ok({ group: await createRoom(ctx, operatorOf(request.admin), request.body) }),
  );

  app.get(`${PREFIX}/groups/:groupId`, { config, schema: { tags, summary: "A group with its members", params: GroupParams, response: GroupAnswer } }, async (request) =>
    ok({ group: (await group(request.params.groupId)).view }),
  );

  app.put(
    `${PREFIX}/groups/:groupId`,
    {
      config,
      schema: { tags, summary: "Rename a group / change its avatar", params: GroupParams, body: Type.Object({ name: Name, avatarFileId: Type.Optional(FileId) }), response: GroupAnswer },
    },
    async (request) => {
      const { row } = await group(request.params.groupId);
      const by = operatorOf(request.admin);
      const { name, avatarFileId } = request.body;
      let view = await updateRoom(ctx, by, row.id, { action: "changeGroupName", name });
      if (avatarFileId !== undefined) view = await updateRoom(ctx, by, row.id, { action: "changeGroupAvatar", avatarFileId });
      return ok({ group: view });
    },
  );

  app.delete(
    `${PREFIX}/groups/:groupId`,
    { config, schema: { tags, summary: "Delete a group (DELETE_ROOM to its members)", params: GroupParams, response: { 200: Envelope(Type.Object({ deleted: Type.Boolean() })) } } },
    async (request) => {
      await deleteRoom(ctx, operatorOf(request.admin), (await group(request.params.groupId)).row.id);
      return ok({ deleted: true });
    },
  );

  app.put(
    `${PREFIX}/groups/:groupId/add`,
    {
      config,
      schema: {
        tags,
        summary: "Add users to a group (admin: true makes them admins)",
        params: GroupParams,
        body: Type.Object({ usersIds: Type.Array(IntId(), { minItems: 1, maxItems: 1000 }), admin: Type.Optional(Type.Boolean()) }),
        response: { 200: Envelope(Type.Object({ added: Type.Array(Type.Integer()), groupId: Type.Integer() })) },
      },
    },
    async (request) => {
      const { row, view } = await group(request.params.groupId);
      const by = operatorOf(request.admin);
      const ids = [...new Set(request.body.usersIds)];
      const before = new Set(view.users.map((u) => u.userId));
      await updateRoom(ctx, by, row.id, { action: "addGroupUsers", userIds: ids });
      if (request.body.admin) await updateRoom(ctx, by, row.id, { action: "addGroupAdmins", userIds: ids });
      return ok({ added: ids.filter((id) => !before.has(id)), groupId: row.id });
    },
  );

  app.delete(
    `${PREFIX}/groups/:groupId/:userId`,
    {
      config,
      schema: {
        tags,
        summary: "Remove a member (the same events as the messenger's remove)",
        params: Type.Object({ groupId: Type.String(), userId: Type.String() }),
        response: { 200: Envelope(Type.Object({ removed: Type.Object({ roomId: Type.Integer(), userId: Type.Integer() }) })) },
      },
    },
    async (request) => {
      const { row } = await group(request.params.groupId);
      const userId = pathId(request.params.userId, "userId");
      if (!(await membership(ctx.db, row.id, userId))) throw notFound("Member not found");
      await updateRoom(ctx, operatorOf(request.admin), row.id, { action: "removeGroupUsers", userIds: [userId] });
      return ok({ removed: { roomId: row.id, userId } });
    },
  );

  app.get(
    `${PREFIX}/audit`,
    {
      config,
      schema: { tags, summary: "Who changed what, newest first", querystring: Type.Object({ page: Type.Optional(Type.String()) }), response: { 200: Envelope(Paged(AuditEntry)) } },
    },
    async (request) => {
      const page = await auditPage(ctx.db, pageOf(request.query.page));
      return ok({ ...page, list: page.list.map(auditEntryView) });
    },
  );
}
