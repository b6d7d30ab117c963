// Reads of users and of who may see whom (§3.5, §3.9, §3.10).
import { countRows } from "../../db/count.js";
import type { Db } from "../../db/index.js";
import { prepared } from "../../db/prepared.js";
import type { UserRow } from "../../db/schema.js";

const userById = prepared((db, a: { id: number }) => db.selectFrom("users").selectAll().where("id", "=", a.id));
export const findUser = async (db: Db, id: number): Promise<UserRow | undefined> => (await userById(db, { id }))[0];

export const findUserByPhone = (db: Db, telephoneNumber: string): Promise<UserRow | undefined> =>
  db.selectFrom("users").selectAll().where("telephoneNumber", "=", telephoneNumber).executeTakeFirst();

export const findUserByEmail = (db: Db, emailAddress: string): Promise<UserRow | undefined> =>
  db.selectFrom("users").selectAll().where("emailAddress", "=", emailAddress).executeTakeFirst();

export async function isContact(db: Db, userId: number, contactId: number): Promise<boolean> {
  const row = await db
    .selectFrom("contacts")
    .select("id")
    .where("userId", "=", userId)
    .where("contactId", "=", contactId)
    .executeTakeFirst();
  return row !== undefined;
}

/** §3.9: the requester itself; anyone in team mode; otherwise only the requester's contacts. */
export async function findVisibleUser(db: Db, teamMode: boolean, requesterId: number, id: number): Promise<UserRow | undefined> {
  if (id !== requesterId && !teamMode && !(await isContact(db, requesterId, id))) return undefined;
  return findUser(db, id);
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
  if (!opts.teamMode) {
    q = q.where((eb) =>
      eb.or([
        eb("id", "=", opts.requesterId),
        eb("id", "in", eb.selectFrom("contacts").select("contactId").where("userId", "=", opts.requesterId)),
        eb(
          "id",
          "in",
          eb
            .selectFrom("roomUsers as mine")
            .innerJoin("roomUsers as theirs", "theirs.roomId", "mine.roomId")
            .select("theirs.userId")
            .where("mine.userId", "=", opts.requesterId),
        ),
      ]),
    );
  }
  const [list, total] = await Promise.all([
    q.selectAll().orderBy("modifiedAt").orderBy("id").limit(opts.limit).offset((opts.page - 1) * opts.limit).execute(),
    countRows(q),
  ]);
  return { list, count: total };
}

/** Who hears about a change of `userId`'s profile (§3.7): itself, its contacts in both directions, and room-mates. */
export async function userUpdateAudience(db: Db, userId: number): Promise<number[]> {
  const rows = await db
    .selectFrom("contacts")
    .select("contactId as id")
    .where("userId", "=", userId)
    .union(db.selectFrom("contacts").select("userId as id").where("contactId", "=", userId))
    .union(
      db
        .selectFrom("roomUsers as mine")
        .innerJoin("roomUsers as theirs", "theirs.roomId", "mine.roomId")
        .select("theirs.userId as id")
        .where("mine.userId", "=", userId),
    )
    .execute();
  const ids = new Set(rows.map((r) => Number(r.id)));
  ids.add(userId);
  return [...ids];
}

export const userSettings = (db: Db, userId: number) =>
  db.selectFrom("userSettings").selectAll().where("userId", "=", userId).orderBy("id").execute();
