// Reads of the caller's blocks (§4.18). What a block does to messages lives in the messages core.
import type { Db } from "../../db/index.js";
import type { BlockRow, RoomRow, UserRow } from "../../db/schema.js";
import { privatePeer } from "../rooms/queries.js";

export const findBlock = (db: Db, userId: number, blockedId: number): Promise<BlockRow | undefined> =>
  db.selectFrom("blocks").selectAll().where("userId", "=", userId).where("blockedId", "=", blockedId).executeTakeFirst();

/** GET /blocks: the users `userId` blocked, in blocking order. */
export async function blockedUsers(db: Db, userId: number): Promise<UserRow[]> {
  return db.selectFrom("blocks as b").innerJoin("users as u", "u.id", "b.blockedId").selectAll("u").where("b.userId", "=", userId).orderBy("b.id").execute();
}

/** In a private room: `userId`'s block of the other member; null otherwise (groups too). */
export async function peerBlock(db: Db, room: RoomRow, userId: number): Promise<BlockRow | null> {
  const peer = await privatePeer(db, room, userId);
  return peer === undefined ? null : ((await findBlock(db, userId, peer)) ?? null);
}
