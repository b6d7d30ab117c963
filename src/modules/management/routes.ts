// The management API under /api/management (docs/management.md): what the official Spika admin
// app calls, plus sign-out and the audit trail. Registered only when ADMIN_USERNAME is set.
import Type from "typebox";
import type { App } from "../../app.js";
import { notFound } from "../../http/errors.js";
import { Envelope, IntId, Nullable, ok, pageOf, pathId } from "../../http/schema.js";
import { IdParams, op } from "../../http/openapi.js";
import { auditPage } from "../audit/queries.js";
import { logout } from "../auth/actions.js";
import { createRoom, deleteRoom, updateRoom } from "../rooms/actions.js";
import { Room } from "../rooms/views.js";
import { createAccount, deleteMe, updateMe } from "../users/actions.js";
import { createBot, operatorOf, removeGroupMember, renewBotToken, signIn, signOut } from "./actions.js";
import { accountById, counts, devicesOf, groupById, groupsOf, listAccounts, listGroups } from "./queries.js";
import { AdminDevice, AdminUser, AuditEntry, Bot, Paged, adminDeviceView, adminUserView, auditEntryView, botView } from "./views.js";

const PREFIX = "/api/management";
const Text = (max = 191) => Type.String({ maxLength: max });
const Name = Type.String({ minLength: 1, maxLength: 191 });
const FileId = IntId({ minimum: 0 });
const ListQuery = Type.Object({
  page: Type.Optional(Type.String({ description: "1-based page; missing or malformed means 1" })),
  keyword: Type.Optional(Type.String({ maxLength: 191, description: "anywhere in the name, any case" })),
  bots: Type.Optional(Type.String({ description: "`1` or `true`: bots instead of users (GET /users only)" })),
});
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

// The 4xx messages the routes answer (besides the admin-token 401s and body validation 400s
// that src/http/openapi.ts adds for every admin route and every body).
const BAD_USER_ID = "userId must be number";
const BAD_GROUP_ID = "groupId must be number";
const USER_NOT_FOUND = "User not found";
const GROUP_NOT_FOUND = "Group not found";
const CONTACT_TAKEN = ["User with that telephoneNumber exists", "User with that email exists", "User with that telephoneNumber or email exists"];
const KEYWORD_ERRORS = ["Invalid params: keyword must NOT have more than 191 characters", "Invalid params: keyword must not contain NUL characters"];
const USER_ERRORS = { 400: [BAD_USER_ID], 404: [USER_NOT_FOUND] };
const GROUP_ERRORS = { 400: [BAD_GROUP_ID], 404: [GROUP_NOT_FOUND] };
const ADMIN_ONLY = "Administrator only (`adminaccesstoken` from `POST /api/management/auth`).";

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
      schema: op({
        operationId: "adminSignIn",
        tags,
        summary: "Sign in as the administrator (rate-limited per IP)",
        description:
          "Anyone may call it; only the configured `ADMIN_USERNAME` / password pass (both checked in constant time). Answers a management token for the `adminaccesstoken` header and its `expireDate` (epoch ms, `ADMIN_TOKEN_TTL` after now). At most 10 attempts per IP in 15 minutes, then 429. Writes an `admin.login` audit row.",
        errors: { 403: ["Invalid username or password"], 429: ["Too many requests"] },
        body: Type.Object({ username: Text(), password: Text(1024) }),
        response: { 200: Envelope(Type.Object({ token: Type.String(), expireDate: Type.Integer() })) },
      }),
    },
    async (request) => ok(await signIn(ctx, { ...request.body, ip: request.ip })),
  );

  app.get(
    `${PREFIX}/auth/check`,
    {
      config,
      schema: op({
        operationId: "adminCheckToken",
        tags,
        summary: "Whether the admin token is valid",
        description: `${ADMIN_ONLY} Answers \`{valid: true}\` for a live token; a missing, unknown or expired one is 401. Changes nothing.`,
        response: { 200: Envelope(Type.Object({ valid: Type.Boolean() })) },
      }),
    },
    async () => ok({ valid: true }),
  );

  app.post(
    `${PREFIX}/auth/logout`,
    {
      config,
      schema: op({
        operationId: "adminSignOut",
        tags,
        summary: "Sign out: the admin token dies",
        description: `${ADMIN_ONLY} Deletes the presented token (later calls with it are 401) and writes an \`admin.logout\` audit row.`,
        response: { 200: Envelope(Type.Object({ loggedOut: Type.Boolean() })) },
      }),
    },
    async (request) => {
      await signOut(ctx, request.admin);
      return ok({ loggedOut: true });
    },
  );

  app.get(
    `${PREFIX}/counts`,
    {
      config,
      schema: op({
        operationId: "adminGetCounts",
        tags,
        summary: "Live users, bots and groups",
        description: `${ADMIN_ONLY} How many live (not deleted) users, bots and groups exist. Changes nothing.`,
        response: { 200: Envelope(Type.Object({ users: Type.Integer(), bots: Type.Integer(), groups: Type.Integer() })) },
      }),
    },
    async () => ok(await counts(ctx.db)),
  );

  // Users.
  app.get(
    `${PREFIX}/users`,
    {
      config,
      schema: op({
        operationId: "adminListUsers",
        tags,
        summary: "Live users (bots=1: bots) by name; keyword in the name",
        description: `${ADMIN_ONLY} Live accounts by name then id, 20 a page (\`{list, count, limit}\`, \`count\` the total); deleted accounts are left out. \`bots=1\` lists bots instead. Changes nothing.`,
        errors: { 400: KEYWORD_ERRORS },
        querystring: ListQuery,
        response: { 200: Envelope(Paged(AdminUser)) },
      }),
    },
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
      schema: op({
        operationId: "adminCreateUser",
        tags,
        summary: "Create a verified user",
        description: `${ADMIN_ONLY} Creates a verified account that signs in with \`telephoneNumber\` (SMS code as usual); the number and e-mail must be unused (400). Writes a \`user.create\` audit row.`,
        errors: { 400: CONTACT_TAKEN },
        body: Type.Object({
          displayName: Name,
          telephoneNumber: Type.String({ minLength: 1, maxLength: 191 }),
          emailAddress: Type.Optional(Nullable(Text())),
          avatarFileId: Type.Optional(FileId),
        }),
        response: UserAnswer,
      }),
    },
    async (request) => {
      const { emailAddress, ...rest } = request.body;
      return ok({ user: adminUserView(await createAccount(ctx, operatorOf(request.admin), { ...rest, emailAddress: emailAddress ?? undefined })) });
    },
  );

  app.get(
    `${PREFIX}/users/:userId`,
    {
      config,
      schema: op({
        operationId: "adminGetUser",
        tags,
        summary: "A user (deleted ones too)",
        description: `${ADMIN_ONLY} Any account, bots and deleted ones (\`deleted: true\`) included; 404 only for ids that never existed. Changes nothing.`,
        errors: USER_ERRORS,
        params: UserParams,
        response: UserAnswer,
      }),
    },
    async (request) => ok({ user: adminUserView(await account(request.params.userId)) }),
  );

  app.put(
    `${PREFIX}/users/:userId`,
    {
      config,
      schema: op({
        operationId: "adminUpdateUser",
        tags,
        summary: "Edit a user (USER_UPDATE to those who see them)",
        description: `${ADMIN_ONLY} Sets the given fields of a live account; \`emailAddress: ""\` or \`null\` clears it; a new number or e-mail must be unused (400). Those who see the user get \`USER_UPDATE\`. Writes a \`user.update\` audit row.`,
        errors: { 400: [BAD_USER_ID, ...CONTACT_TAKEN], 404: [USER_NOT_FOUND] },
        params: UserParams,
        body: Type.Object({
          displayName: Type.Optional(Name),
          emailAddress: Type.Optional(Nullable(Text())),
          telephoneNumber: Type.Optional(Type.String({ minLength: 1, maxLength: 191 })),
          avatarFileId: Type.Optional(FileId),
          verified: Type.Optional(Type.Boolean()),
        }),
        response: UserAnswer,
      }),
    },
    async (request) => {
      const user = await liveAccount(request.params.userId);
      const { emailAddress, ...rest } = request.body;
      const changes = { ...rest, ...(emailAddress !== undefined ? { emailAddress: emailAddress ?? "" } : {}) };
      return ok({ user: adminUserView(await updateMe(ctx, operatorOf(request.admin), user, changes)) });
    },
  );

  app.delete(
    `${PREFIX}/users/:userId`,
    {
      config,
      schema: op({
        operationId: "adminDeleteUser",
        tags,
        summary: "Delete a user as DELETE /me does",
        description: `${ADMIN_ONLY} Exactly \`DELETE /api/messenger/me\`: the live account is anonymised, its devices and tokens are gone, its streams close, it leaves its groups, and those who see it get \`USER_UPDATE\`. Writes a \`user.delete\` audit row. Already deleted accounts are 404.`,
        errors: USER_ERRORS,
        params: UserParams,
        response: { 200: Envelope(Type.Object({ deleted: Type.Boolean() })) },
      }),
    },
    async (request) => {
      await deleteMe(ctx, operatorOf(request.admin), await liveAccount(request.params.userId));
      return ok({ deleted: true });
    },
  );

  app.get(
    `${PREFIX}/users/:userId/groups`,
    {
      config,
      schema: op({
        operationId: "adminListUserGroups",
        tags,
        summary: "The groups of a user",
        description: `${ADMIN_ONLY} The live groups the user is a member of. Changes nothing.`,
        errors: USER_ERRORS,
        params: UserParams,
        response: { 200: Envelope(Type.Object({ rooms: Type.Array(Room) })) },
      }),
    },
    async (request) => ok({ rooms: await groupsOf(ctx.db, (await account(request.params.userId)).id) }),
  );

  app.get(
    `${PREFIX}/users/:userId/devices`,
    {
      config,
      schema: op({
        operationId: "adminListUserDevices",
        tags,
        summary: "The devices of a user",
        description: `${ADMIN_ONLY} The user's devices with their times; \`token\` is always \`null\` (tokens are stored hashed). Those with \`tokenExpiredAt\` in the future are signed in. Changes nothing.`,
        errors: USER_ERRORS,
        params: UserParams,
        response: { 200: Envelope(Type.Object({ devices: Type.Array(AdminDevice) })) },
      }),
    },
    async (request) => ok({ devices: (await devicesOf(ctx.db, (await account(request.params.userId)).id)).map((d) => adminDeviceView(d)) }),
  );

  app.put(
    `${PREFIX}/users/:userId/devices/:deviceId/expire`,
    {
      config,
      schema: op({
        operationId: "adminExpireDevice",
        tags,
        summary: "Log a device out: its token dies, its streams close",
        description: `${ADMIN_ONLY} The messenger's logout for one of the user's devices: its token and push token are cleared, the device gets \`LOGOUT\` and its open streams close on every instance. 404 unless the device is the user's. Writes a \`device.expire\` audit row.`,
        errors: { 400: [BAD_USER_ID, "deviceId must be number"], 404: ["Device not found"] },
        params: IdParams("userId", "deviceId"),
        response: { 200: Envelope(Type.Object({ expired: Type.Boolean() })) },
      }),
    },
    async (request) => {
      const userId = pathId(request.params.userId, "userId");
      await logout(ctx, operatorOf(request.admin), pathId(request.params.deviceId, "deviceId"), userId);
      return ok({ expired: true });
    },
  );

  // Bots.
  app.post(
    `${PREFIX}/users/bot`,
    {
      config,
      schema: op({
        operationId: "adminCreateBot",
        tags,
        summary: "Create a bot; its access token is in the answer only",
        description: `${ADMIN_ONLY} Creates a verified account with \`isBot: true\` and one device of type \`bot\`; \`device[0].token\` is its messenger access token, shown this once (it does not expire; renew it instead). \`webhookUrl\` is stored and shown only. Writes a \`bot.create\` audit row.`,
        errors: { 400: ["User with that telephoneNumber or email exists"] },
        body: Type.Object({ displayName: Name, ...BotFields }),
        response: BotAnswer,
      }),
    },
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

  app.get(
    `${PREFIX}/users/bot/:userId`,
    {
      config,
      schema: op({
        operationId: "adminGetBot",
        tags,
        summary: "A bot with its device",
        description: `${ADMIN_ONLY} A live bot with its device(s) (\`token\` \`null\`); 404 for accounts that are not live bots. Changes nothing.`,
        errors: { 400: [BAD_USER_ID], 404: [USER_NOT_FOUND, "Bot not found"] },
        params: UserParams,
        response: BotAnswer,
      }),
    },
    async (request) => {
      const user = await bot(request.params.userId);
      return ok({ user: botView(user, await devicesOf(ctx.db, user.id)) });
    },
  );

  app.put(
    `${PREFIX}/users/bot/:userId`,
    {
      config,
      schema: op({
        operationId: "adminUpdateBot",
        tags,
        summary: "Edit a bot",
        description: `${ADMIN_ONLY} Sets the given fields of a live bot; \`webhookUrl: ""\` clears it; other fields (the app's \`accessToken\`) are ignored. Those who see the bot get \`USER_UPDATE\`. Writes a \`bot.update\` audit row.`,
        errors: { 400: [BAD_USER_ID], 404: [USER_NOT_FOUND, "Bot not found"] },
        params: UserParams,
        body: Type.Object({ displayName: Type.Optional(Name), ...BotFields }),
        response: UserAnswer,
      }),
    },
    async (request) => {
      const user = await bot(request.params.userId);
      const { webhookUrl, ...rest } = request.body;
      const changes = { ...rest, ...(webhookUrl !== undefined ? { webhookUrl: webhookUrl || null } : {}) };
      return ok({ user: adminUserView(await updateMe(ctx, operatorOf(request.admin), user, changes)) });
    },
  );

  app.put(
    `${PREFIX}/users/bot/renewAccessToken/:userId`,
    {
      config,
      schema: op({
        operationId: "adminRenewBotToken",
        tags,
        summary: "A new access token for a bot (the old one dies)",
        description: `${ADMIN_ONLY} Issues a new token for the live bot's device (made if missing), shown once in \`device.token\`; the old token dies, the device gets \`LOGOUT\` and its streams close. Writes a \`bot.renewToken\` audit row.`,
        errors: { 400: [BAD_USER_ID], 404: ["Bot not found"] },
        params: UserParams,
        response: { 200: Envelope(Type.Object({ device: AdminDevice })) },
      }),
    },
    async (request) => {
      const renewed = await renewBotToken(ctx, operatorOf(request.admin), pathId(request.params.userId, "userId"));
      return ok({ device: adminDeviceView(renewed.device, renewed.token) });
    },
  );

  // Groups.
  app.get(
    `${PREFIX}/groups`,
    {
      config,
      schema: op({
        operationId: "adminListGroups",
        tags,
        summary: "Live groups, oldest first; keyword in the name",
        description: `${ADMIN_ONLY} Live groups (no private rooms), oldest first, 20 a page (\`{list, count, limit}\`); per-viewer fields are false/0. \`bots\` is ignored. Changes nothing.`,
        errors: { 400: KEYWORD_ERRORS },
        querystring: ListQuery,
        response: { 200: Envelope(Paged(Room)) },
      }),
    },
    async (request) => ok(await listGroups(ctx.db, { page: pageOf(request.query.page), keyword: request.query.keyword || undefined, dialect: ctx.dialect })),
  );

  app.post(
    `${PREFIX}/groups`,
    {
      config,
      schema: op({
        operationId: "adminCreateGroup",
        tags,
        summary: "Create a group (NEW_ROOM to its members)",
        description: `${ADMIN_ONLY} A group of \`userIds\` and \`adminUserIds\` (the operator is not a member); every named user must exist (400). Members get \`NEW_ROOM\` and a \`created_group\` system message sent in the first member's name. Writes a \`group.create\` audit row.`,
        errors: { 400: ["Users doesn't exist, ids: <ids>", "Admin users doesn't exist, ids: <ids>"] },
        body: Type.Object({
          name: Name,
          avatarFileId: Type.Optional(FileId),
          userIds: Type.Optional(Type.Array(IntId(), { maxItems: 1000 })),
          adminUserIds: Type.Optional(Type.Array(IntId(), { maxItems: 1000 })),
        }),
        response: GroupAnswer,
      }),
    },
    async (request) => ok({ group: await createRoom(ctx, operatorOf(request.admin), request.body) }),
  );

  app.get(
    `${PREFIX}/groups/:groupId`,
    {
      config,
      schema: op({
        operationId: "adminGetGroup",
        tags,
        summary: "A group with its members",
        description: `${ADMIN_ONLY} A live group with \`users\`; private and deleted rooms are 404. Changes nothing.`,
        errors: GROUP_ERRORS,
        params: GroupParams,
        response: GroupAnswer,
      }),
    },
    async (request) => ok({ group: (await group(request.params.groupId)).view }),
  );

  app.put(
    `${PREFIX}/groups/:groupId`,
    {
      config,
      schema: op({
        operationId: "adminUpdateGroup",
        tags,
        summary: "Rename a group / change its avatar",
        description: `${ADMIN_ONLY} The messenger's \`changeGroupName\` (and \`changeGroupAvatar\` when \`avatarFileId\` is given) actions: members get the system message(s) and \`UPDATE_ROOM\`. Writes \`group.<action>\` audit rows.`,
        errors: GROUP_ERRORS,
        params: GroupParams,
        body: Type.Object({ name: Name, avatarFileId: Type.Optional(FileId) }),
        response: GroupAnswer,
      }),
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
    {
      config,
      schema: op({
        operationId: "adminDeleteGroup",
        tags,
        summary: "Delete a group (DELETE_ROOM to its members)",
        description: `${ADMIN_ONLY} Marks the live group deleted as \`DELETE /api/messenger/rooms/:id\` does; members get \`DELETE_ROOM\`. Writes a \`group.delete\` audit row.`,
        errors: GROUP_ERRORS,
        params: GroupParams,
        response: { 200: Envelope(Type.Object({ deleted: Type.Boolean() })) },
      }),
    },
    async (request) => {
      await deleteRoom(ctx, operatorOf(request.admin), (await group(request.params.groupId)).row.id);
      return ok({ deleted: true });
    },
  );

  app.put(
    `${PREFIX}/groups/:groupId/add`,
    {
      config,
      schema: op({
        operationId: "adminAddGroupMembers",
        tags,
        summary: "Add users to a group (admin: true makes them admins)",
        description: `${ADMIN_ONLY} The messenger's \`addGroupUsers\` action (and \`addGroupAdmins\` with \`admin: true\`) for 1–1000 existing users: an \`added_group_members\` system message, \`UPDATE_ROOM\` to members. \`added\` lists the ids new to the group. Writes \`group.<action>\` audit rows.`,
        errors: { 400: [BAD_GROUP_ID, "Users doesn't exist, ids: <ids>"], 404: [GROUP_NOT_FOUND] },
        params: GroupParams,
        body: Type.Object({ usersIds: Type.Array(IntId(), { minItems: 1, maxItems: 1000 }), admin: Type.Optional(Type.Boolean()) }),
        response: { 200: Envelope(Type.Object({ added: Type.Array(Type.Integer()), groupId: Type.Integer() })) },
      }),
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
      schema: op({
        operationId: "adminRemoveGroupMember",
        tags,
        summary: "Remove a member (the same events as the messenger's remove)",
        description: `${ADMIN_ONLY} The messenger's \`removeGroupUsers\` action; unlike group admins, an operator may remove an admin as long as one admin stays (400 otherwise). The removed user gets \`REMOVED_FROM_ROOM\`, members a system message and \`UPDATE_ROOM\`. 404 if the user is not a member. Writes a \`group.removeGroupUsers\` audit row.`,
        errors: { 400: [BAD_GROUP_ID, BAD_USER_ID, "At least one admin should be in the group"], 404: [GROUP_NOT_FOUND, "Member not found"] },
        params: IdParams("groupId", "userId"),
        response: { 200: Envelope(Type.Object({ removed: Type.Object({ roomId: Type.Integer(), userId: Type.Integer() }) })) },
      }),
    },
    async (request) => {
      const { row } = await group(request.params.groupId);
      const userId = pathId(request.params.userId, "userId");
      await removeGroupMember(ctx, operatorOf(request.admin), row.id, userId);
      return ok({ removed: { roomId: row.id, userId } });
    },
  );

  app.get(
    `${PREFIX}/audit`,
    {
      config,
      schema: op({
        operationId: "adminListAudit",
        tags,
        summary: "Who changed what, newest first",
        description: `${ADMIN_ONLY} The audit trail of operator changes (API \`admin:<username>\` and CLI \`cli:<os user>\` actors), newest first, 50 a page (\`{list, count, limit}\`); a missing or malformed \`page\` means 1. Changes nothing.`,
        errors: { 400: ["Invalid params: page must not contain NUL characters"] },
        querystring: Type.Object({ page: Type.Optional(Type.String()) }),
        response: { 200: Envelope(Paged(AuditEntry)) },
      }),
    },
    async (request) => {
      const page = await auditPage(ctx.db, pageOf(request.query.page));
      return ok({ ...page, list: page.list.map(auditEntryView) });
    },
  );
}
