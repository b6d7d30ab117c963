// Reads for jumping around a room's history (§4.14): oldest date, batches around a message,
// message by date, and full-text search. Each starts with the room rule (accessRoom: members
// only, 404 "No room found"); everything goes through the member's copies (memberCopies):
// messages from before the join time or hidden by a block do not exist here.
import { sql } from "kysely";
import { countRows } from "../../db/count.js";
import type { Db, Dialect } from "../../db/index.js";
import type { RoomUserRow } from "../../db/schema.js";
import { MESSAGE_PAGING_LIMIT, memberCopies, messageViews } from "../messages/queries.js";
import type { CopyRow } from "../messages/views.js";
import { accessRoom } from "../rooms/access.js";
import { messageItemViews, type MessageItemView } from "./views.js";

type Member = Pick<RoomUserRow, "roomId" | "userId" | "createdAt">;

/** Creation time of the oldest message `userId` can see in room `roomId` (deleted copies count). */
export async function oldestMessageAt(db: Db, roomId: number | null, userId: number): Promise<number | null> {
  const { member } = await accessRoom(db, roomId, userId);
  const row = await memberCopies(db, member).clearSelect().select("m.createdAt").orderBy("m.id").limit(1).executeTakeFirst();
  return row?.createdAt ?? null;
}

/** First-batch size on each side of the target message. */
export const TARGET_SIDE = 25;

const olderThan = (db: Db, member: Member, id: number, limit: number) =>
  memberCopies(db, member)
    .where("m.id", "<", id)
    .orderBy("m.id", "desc")
    .limit(limit + 1)
    .execute();
const newerThan = (db: Db, member: Member, id: number, limit: number) =>
  memberCopies(db, member)
    .where("m.id", ">", id)
    .orderBy("m.id", "asc")
    .limit(limit + 1)
    .execute();

export interface TargetBatch {
  rows: CopyRow[];
  nextCursorUp: number | null;
  nextCursorDown: number | null;
  hasMoreOlderMessages: boolean;
  hasMoreNewerMessages: boolean;
}

/**
 * §4.14 target-message-batch. With only `target`: up to 25 newer + the target (once) + up to 25
 * older, newest first. `cursorUp`: up to 50 older than it, newest first; `cursorDown`: up to 50
 * newer than it, oldest first (both given: the older batch, then the newer one). `hasMore*` are
 * exact (one extra row is read). Returns null when `target` is not a message the member sees in
 * this room.
 */
export async function targetMessageBatch(
  db: Db,
  roomId: number | null,
  userId: number,
  q: { target?: number; cursorUp?: number; cursorDown?: number },
): Promise<TargetBatch | null> {
  const { member } = await accessRoom(db, roomId, userId);
  const out: TargetBatch = { rows: [], nextCursorUp: null, nextCursorDown: null, hasMoreOlderMessages: false, hasMoreNewerMessages: false };
  if (q.target !== undefined) {
    const target = await memberCopies(db, member).where("m.id", "=", q.target).executeTakeFirst();
    if (!target) return null;
    if (q.cursorUp === undefined && q.cursorDown === undefined) {
      const [newer, older] = await Promise.all([newerThan(db, member, target.id, TARGET_SIDE), olderThan(db, member, target.id, TARGET_SIDE)]);
      out.rows = [...newer.slice(0, TARGET_SIDE).reverse(), target, ...older.slice(0, TARGET_SIDE)];
      out.nextCursorDown = out.rows[0].id;
      out.nextCursorUp = out.rows[out.rows.length - 1].id;
      out.hasMoreNewerMessages = newer.length > TARGET_SIDE;
      out.hasMoreOlderMessages = older.length > TARGET_SIDE;
      return out;
    }
  }
  if (q.cursorUp !== undefined) {
    const older = await olderThan(db, member, q.cursorUp, MESSAGE_PAGING_LIMIT);
    const page = older.slice(0, MESSAGE_PAGING_LIMIT);
    out.rows.push(...page);
    out.nextCursorUp = page.at(-1)?.id ?? null;
    out.hasMoreOlderMessages = older.length > MESSAGE_PAGING_LIMIT;
  }
  if (q.cursorDown !== undefined) {
    const newer = await newerThan(db, member, q.cursorDown, MESSAGE_PAGING_LIMIT);
    const page = newer.slice(0, MESSAGE_PAGING_LIMIT);
    out.rows.push(...page);
    out.nextCursorDown = page.at(-1)?.id ?? null;
    out.hasMoreNewerMessages = newer.length > MESSAGE_PAGING_LIMIT;
  }
  return out;
}

/**
 * §4.14 target-message-id-by-date: the first non-system message the member sees created at or
 * after `at`; else the newest one; null when there is none.
 */
export async function messageIdByDate(db: Db, roomId: number | null, userId: number, at: number): Promise<number | null> {
  const { member } = await accessRoom(db, roomId, userId);
  const base = memberCopies(db, member).clearSelect().select("m.id").where("m.type", "!=", "system");
  const first = await base.where("m.createdAt", ">=", at).orderBy("m.createdAt").orderBy("m.id").limit(1).executeTakeFirst();
  if (first) return first.id;
  const newest = await base.orderBy("m.id", "desc").limit(1).executeTakeFirst();
  return newest?.id ?? null;
}

export const SEARCH_LIMIT = 20;
export const SEARCH_MAX_LIMIT = 100;

/** `%keyword%` for LIKE/ILIKE with `\` as the escape character. */
const likePattern = (keyword: string) => `%${keyword.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * §4.14 search: the member's live (not deleted) copies of text messages whose text contains
 * `keyword`, case-insensitively, newest first; `cursor` = id of the last item seen. The text
 * index does the matching: FTS5 trigram table messages_fts on SQLite, the pg_trgm GIN index of
 * messages.search_text on PostgreSQL (both kept in sync by the schema, 001_initial.ts).
 */
export async function searchMessages(
  db: Db,
  dialect: Dialect,
  roomId: number | null,
  userId: number,
  opts: { keyword: string; limit: number; cursor?: number },
): Promise<{ rows: CopyRow[]; count: number }> {
  const { member } = await accessRoom(db, roomId, userId);
  const matches =
    dialect === "sqlite"
      ? sql<boolean>`m.id in (select rowid from messages_fts where messages_fts match ${`"${opts.keyword.replace(/"/g, '""')}"`})`
      : sql<boolean>`m.search_text ilike ${likePattern(opts.keyword)} escape '\\'`;
  const base = memberCopies(db, member, { live: true }).where("m.type", "=", "text").where(matches);
  const [rows, total] = await Promise.all([
    base
      .$if(opts.cursor !== undefined, (qb) => qb.where("m.id", "<", opts.cursor!))
      .orderBy("m.id", "desc")
      .limit(opts.limit)
      .execute(),
    countRows(base),
  ]);
  return { rows, count: total };
}

/** Items of `rows` (the viewer's copies), with file objects in the bodies: two queries. */
export async function messageItems(db: Db, rows: CopyRow[]): Promise<MessageItemView[]> {
  const senders = [...new Set(rows.map((r) => r.fromUserId))];
  const [views, users] = await Promise.all([
    messageViews(db, rows),
    senders.length ? db.selectFrom("users").select(["id", "displayName"]).where("id", "in", senders).execute() : [],
  ]);
  return messageItemViews(views, new Map(users.map((u) => [u.id, u.displayName])));
}
