// Reads of message records (§4.14, §4.15): a message's records, reactions of a page of
// messages, and the record sync of a device.
import { countRows, pageTotal, pageWithTotal } from "../../db/count.js";
import type { Db } from "../../db/index.js";
import type { DeviceRow, MessageRecordRow } from "../../db/schema.js";
import { notFound } from "../../http/errors.js";
import { accessMessage, messageViews, notHiddenException } from "../messages/queries.js";
import { withReactions, type CopyRow } from "../messages/views.js";
import { recordView } from "./views.js";

/** Records of message `id` (null: an id that did not parse) if `userId` may see it, else 404; `reactions`: only live reactions. */
export async function recordsOfMessage(db: Db, userId: number, id: number | null, opts: { reactions: boolean }): Promise<MessageRecordRow[]> {
  if (id === null || !(await accessMessage(db, userId, id))) throw notFound("No message found");
  return db
    .selectFrom("messageRecords")
    .selectAll()
    .where("messageId", "=", id)
    .$if(opts.reactions, (q) => q.where("type", "=", "reaction").where("isDeleted", "=", 0))
    .orderBy("id")
    .execute();
}

/** Copies → MessageWithReactions models (§2.5): two queries for any number of messages. */
export async function messagesWithReactions(db: Db, rows: CopyRow[]) {
  const [views, reactions] = await Promise.all([
    messageViews(db, rows),
    reactionsOf(
      db,
      rows.map((r) => r.id),
    ),
  ]);
  return withReactions(views, reactions.map(recordView));
}

/** Reactions (also soft-deleted ones) of the given messages, one query. */
export async function reactionsOf(db: Db, messageIds: number[]) {
  if (messageIds.length === 0) return [];
  return db.selectFrom("messageRecords").selectAll().where("messageId", "in", messageIds).where("type", "=", "reaction").orderBy("id").execute();
}

export const RECORD_SYNC_LIMIT = 500;

/**
 * §4.15 record sync: records changed after `since` on messages of the user's rooms. As in the
 * message sync (deviceSync), the page is sorted and cut on the records' ids and times with the
 * size of the set alongside, and only its rows are loaded: one pass over the set per page.
 */
export async function recordsSince(db: Db, device: DeviceRow, opts: { since: number; page: number }) {
  const changed = db
    .selectFrom("messageRecords as r")
    .innerJoin("roomUsers as ru", (j) => j.onRef("ru.roomId", "=", "r.roomId").on("ru.userId", "=", device.userId))
    .innerJoin("messages as m", "m.id", "r.messageId")
    .leftJoin("messageExceptions as e", (j) => j.onRef("e.messageId", "=", "m.id").on("e.userId", "=", device.userId))
    .where("r.modifiedAt", ">", opts.since)
    .where("m.modifiedAt", ">=", device.createdAt)
    .whereRef("m.createdAt", ">=", "ru.createdAt")
    .where(notHiddenException);
  const page = pageWithTotal(changed.select(["r.id", "r.modifiedAt"]).orderBy("r.modifiedAt").orderBy("r.id"), { page: opts.page, limit: RECORD_SYNC_LIMIT });
  const rows = await db
    .selectFrom(page.as("p"))
    .innerJoin("messageRecords as r", "r.id", "p.id")
    .innerJoin("messages as m", "m.id", "r.messageId")
    .selectAll("r")
    .select(["m.totalUserCount", "m.deliveredCount", "m.seenCount", "p.total"])
    .orderBy("p.modifiedAt")
    .orderBy("p.id")
    .execute();
  const count = await pageTotal(rows, opts.page, () => countRows(changed));
  return { rows: rows.map(({ total: _, ...record }) => record), count };
}
