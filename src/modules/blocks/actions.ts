// Every change to blocks (§4.18): create (idempotent) and delete (no-op when absent), and the
// membership check of the room-block read.
import type { Me } from "../../actor.js";
import { transact, type AppContext } from "../../context.js";
import type { Db } from "../../db/index.js";
import type { BlockRow } from "../../db/schema.js";
import { badRequest, notFound } from "../../http/errors.js";
import { accessRoom } from "../rooms/access.js";
import { findUser } from "../users/queries.js";
import { findBlock, peerBlock } from "./queries.js";

/** GET /blocks/rooms/:roomId: 404 unless the caller is a member; then the block of the private peer or null. */
export async function roomBlock(db: Db, roomId: number, userId: number): Promise<BlockRow | null> {
  const { room } = await accessRoom(db, roomId, userId, { denied: () => notFound("Chat not found") });
  return peerBlock(db, room, userId);
}

/** POST /blocks: `me` blocks `blockedId`; an existing block is returned as it is. */
export async function createBlock(ctx: AppContext, me: Me, blockedId: number): Promise<BlockRow> {
  const userId = me.user.id;
  if (blockedId === userId) throw badRequest("You can't block yourself");
  return transact(ctx, async (tx) => {
    if (!(await findUser(tx, blockedId))) throw notFound("User not found");
    const now = Date.now();
    await tx
      .insertInto("blocks")
      .values({ userId, blockedId, createdAt: now, modifiedAt: now })
      .onConflict((oc) => oc.columns(["userId", "blockedId"]).doNothing())
      .execute();
    return (await findBlock(tx, userId, blockedId))!;
  });
}

/** DELETE /blocks/:id: only the caller's own block with that id. */
export async function deleteBlockById(ctx: AppContext, me: Me, id: number): Promise<void> {
  await transact(ctx, (tx) => tx.deleteFrom("blocks").where("id", "=", id).where("userId", "=", me.user.id).execute());
}

/** DELETE /blocks/userId/:userId: the caller's block of that user. */
export async function deleteBlockOfUser(ctx: AppContext, me: Me, blockedId: number): Promise<void> {
  await transact(ctx, (tx) => tx.deleteFrom("blocks").where("userId", "=", me.user.id).where("blockedId", "=", blockedId).execute());
}
