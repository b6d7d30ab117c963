// Seeds messages directly through the app's own data layer (src/db: openDatabase + Kysely), the
// way createMessage stores them (docs/messages.md): one messages row each, the sender's
// `delivered` and `seen` records, and the room's message_count / last_message_id / last_message_at.
// Run while the server is stopped; the server then starts on the grown database.
import { sql } from "kysely";
import { pino } from "pino";
import { openDatabase } from "../../src/db/index.js";
import { indexNewMessages } from "../../src/modules/navigation/searchIndex.js";

export interface SeedRoom {
  roomId: number;
  fromUserId: number;
  fromDeviceId: number;
  totalUserCount: number;
  count: number;
}

const BATCH = 1000;
const PER_TRANSACTION = 100_000;

/** Inserts `count` text messages per room, created between the room's creation and now. */
export async function seedMessages(databaseUrl: string, rooms: SeedRoom[]): Promise<void> {
  const database = openDatabase(databaseUrl);
  const { db } = database;
  try {
    for (const r of rooms) {
      const room = await db.selectFrom("rooms").select(["createdAt"]).where("id", "=", r.roomId).executeTakeFirstOrThrow();
      const start = room.createdAt + 1;
      const span = Math.max(1, Date.now() - start);
      let firstId: number | null = null;
      for (let done = 0; done < r.count; ) {
        const upTo = Math.min(r.count, done + PER_TRANSACTION);
        await db.transaction().execute(async (tx) => {
          for (let i = done; i < upTo; i += BATCH) {
            const rows = [];
            for (let j = i; j < Math.min(upTo, i + BATCH); j++) {
              const at = start + Math.floor((j * span) / r.count);
              rows.push({
                roomId: r.roomId,
                fromUserId: r.fromUserId,
                fromDeviceId: r.fromDeviceId,
                type: "text",
                body: JSON.stringify({ text: `seeded message ${j + 1} of ${r.count}` }),
                localId: null,
                replyId: null,
                totalUserCount: r.totalUserCount,
                deliveredCount: 1,
                seenCount: 1,
                createdAt: at,
                modifiedAt: at,
              });
            }
            const inserted = await tx.insertInto("messages").values(rows).returning("id").execute();
            firstId ??= inserted[0].id;
          }
        });
        done = upTo;
      }
      await db.transaction().execute(async (tx) => {
        // The sender's own delivered + seen records, as createMessage writes them.
        for (const type of ["delivered", "seen"] as const) {
          await tx
            .insertInto("messageRecords")
            .columns(["messageId", "roomId", "userId", "type", "reaction", "createdAt", "modifiedAt"])
            .expression(
              tx
                .selectFrom("messages")
                .select(["id", "roomId", "fromUserId", sql<string>`${type}`.as("type"), sql<null>`null`.as("reaction"), "createdAt", "modifiedAt"])
                .where("roomId", "=", r.roomId)
                .where("id", ">=", firstId!),
            )
            .execute();
        }
        const last = await tx.selectFrom("messages").select(["id", "createdAt"]).where("roomId", "=", r.roomId).orderBy("id", "desc").limit(1).executeTakeFirstOrThrow();
        await tx
          .updateTable("rooms")
          .set((eb) => ({ lastMessageId: last.id, lastMessageAt: last.createdAt, messageCount: eb("messageCount", "+", r.count) }))
          .where("id", "=", r.roomId)
          .execute();
      });
    }
    // As the job worker would have by the time the server starts again.
    await indexNewMessages({ ...database, events: { publish() {} }, log: pino({ level: "silent" }) });
  } finally {
    await database.close();
  }
}
