// Reads of users and of who may see whom (§3.5, §3.9, §3.10).
import { pageAndCount } from "../../db/count.js";
import type { Db } from "../../db/index.js";
import { prepared } from "../../db/prepared.js";
import type { ExpressionBuilder } from "kysely";
import type { DB, UserRow } from "../../db/schema.js";

const userById = prepared((db, a: { id: number }) => db.selectFrom("users").selectAll().where("id", "=", a.id));
export const findUser = async (db: Db, id: number): Promise<UserRow | undefined> => (await userById(db, { id }))[0];

export const findUserByPhone = (db: Db, telephoneNumber: string): Promise<UserRow | undefined> =>
  db.selectFrom("users").selectAll().where("telephoneNumber", "=", telephoneNumber).executeTakeFirst();

export const findUserByEmail = (db: Db, emailAddress: string): Promise<UserRow | undefined> =>
  db.selectFrom("users").selectAll().where("emailAddress", "=", emailAddress).executeTakeFirst();

export async function isContact(db: Db, userId: number, contactId: number): Promise<boolean> {
  const row = await db.selectFrom("contacts").select("id").where("userId", "=", userId).where("contactId", "=", contactId).executeTakeFirst();
  return row !== undefined;
}

/** §3.9: the requester itself; anyone in team mode; otherwise only the requester's contacts. */
export async function findVisibleUser(db: Db, teamMode: boolean, requesterId: number, id: number): Promise<UserRow | undefined> {
  if (id !== requesterId && !(await whoKnowsWhom(db, teamMode, [requesterId], [id]))(requesterId, id)) return undefined;
  return findUser(db, id);
}

/** Whether `viewerId` knows `userId` (whoKnowsWhom). */
export type Knows = (viewerId: number, userId: number) => boolean;

/**
 * Who may see whose telephone number, its hash and e-mail address: a viewer who could look the
 * user up anyway (GET /users/:id) — itself, anyone in team mode, otherwise its own contacts.
 * Sharing a room is not enough: being added to a group must not hand out the members' numbers.
 * One query for any number of viewers and users (none in team mode).
 */
export async function whoKnowsWhom(db: Db, teamMode: boolean, viewerIds: number[], userIds: number[]): Promise<Knows> {
  if (teamMode) return () => true;
  const viewers = [...new Set(viewerIds)];
  const users = [...new Set(userIds)];
  const rows =
    viewers.length && users.length ? await db.selectFrom("contacts").select(["userId", "contactId"]).where("userId", "in", viewers).where("contactId", "in", users).execute() : [];
  const pairs = new Set(rows.map((r) => `${r.userId}:${r.contactId}`));
  return (viewerId, userId) => viewerId === userId || pairs.has(`${viewerId}:${userId}`);
}

/** In contact mode, the users `requesterId` can see besides itself: its contacts and the members of rooms it is in. */
const seenBy = (eb: ExpressionBuilder<DB, "users">, requesterId: number) =>
  eb.or([
    eb("users.id", "in", eb.selectFrom("contacts").select("contactId").where("userId", "=", requesterId)),
    eb(
      "users.id",
      "in",
      eb.selectFrom("roomUsers as mine").innerJoin("roomUsers as theirs", "theirs.roomId", "mine.roomId").select("theirs.userId").where("mine.userId", "=", requesterId),
    ),
  ]);

/**
 * Of `ids`, the users `requesterId` may name (add to a room): not deleted, and in contact mode
 * itself, its contacts or members of a room it is in. Whoever is left out is reported as unknown,
 * so that an answer never tells a hidden user from a missing one. One query.
 */
export async function nameableUsers(db: Db, teamMode: boolean, requesterId: number, ids: number[]): Promise<UserRow[]> {
  if (ids.length === 0) return [];
  return db
    .selectFrom("users")
    .selectAll()
    .where("id", "in", ids)
    .where("deleted", "=", 0)
    .$if(!teamMode, (q) => q.where((eb) => eb.or([eb("users.id", "=", requesterId), seenBy(eb, requesterId)])))
    .execute();
}

/**
 * §3.10: verified users modified after `since`, oldest change first. Team mode: everyone;
 * otherwise the requester's contacts and users who share a room with the requester.
 */
export async function usersModifiedSince(
  db: Db,
  opts: { teamMode: boolean; requesterId: number; since: number; page: number; limit: number },
): Promise<{ list: UserRow[]; count: number }> {
  let q = db.selectFrom("users").where("verified", "=", 1).where("modifiedAt", ">", opts.since);
  if (!opts.teamMode) q = q.where((eb) => eb.or([eb("users.id", "=", opts.requesterId), seenBy(eb, opts.requesterId)]));
  const { rows, count } = await pageAndCount(q.selectAll().orderBy("modifiedAt").orderBy("id"), opts);
  return { list: rows, count };
}

/** Who hears about a change of `userId`'s profile (§3.7): itself, its contacts in both directions, and room-mates. */
export async function userUpdateAudience(db: Db, userId: number): Promise<number[]> {
  const rows = await db
    .selectFrom("contacts")
    .select("contactId as id")
    .where("userId", "=", userId)
    .union(db.selectFrom("contacts").select("userId as id").where("contactId", "=", userId))
    .union(db.selectFrom("roomUsers as mine").innerJoin("roomUsers as theirs", "theirs.roomId", "mine.roomId").select("theirs.userId as id").where("mine.userId", "=", userId))
    .execute();
  const ids = new Set(rows.map((r) => Number(r.id)));
  ids.add(userId);
  return [...ids];
}

export const userSettings = (db: Db, userId: number) => db.selectFrom("userSettings").selectAll().where("userId", "=", userId).orderBy("id").execute();
