// `sync-10k`: a device that was offline while 10,000 messages arrived catches up through the
// sync endpoints (API.md §9.5: rooms, messages, modified messages, records, users, paging until
// hasNext is false), one request after another as a client does: seconds.
// (A device holds copies only of messages sent after it was created, §9.1, so the catching-up
// device exists before the messages are sent; it has just never synced.)
import { api, createRoom, mapLimit, sendText, signUps } from "../lib/api.js";
import { cpuFields, cpuMeter, freshDatabase, startSpika } from "../lib/procs.js";
import type { Ctx } from "./context.js";

export const SYNC_MESSAGES = Number(process.env.BENCH_SYNC_MESSAGES ?? 10_000);

export async function sync(ctx: Ctx) {
  const db = await freshDatabase();
  const server = await startSpika(db, "sync-10k");
  try {
    const [reader, writer] = await signUps(server.url, 2);
    const roomId = await createRoom(server.url, writer, [reader]);
    ctx.log(`sync-10k: sending ${SYNC_MESSAGES} messages through the API`);
    await mapLimit(Array.from({ length: SYNC_MESSAGES }), 16, (_, i) => sendText(server.url, writer, roomId, `message ${i + 1}`));

    ctx.log("sync-10k: the offline device catches up from lastUpdate=0");
    const counts: Record<string, number> = {};
    let requests = 0;
    const [seconds, c] = await server.measure("sync-10k", async () => {
      const cpu = cpuMeter(server.pid, db.url);
      const t0 = performance.now();
      for (const path of ["rooms/sync", "messages/sync", "messages/sync/modified", "message-records/sync", "users/sync"]) {
        counts[path] = 0;
        for (let page = 1; ; page++) {
          const data = await api<{ list: unknown[]; hasNext: boolean }>(server.url, "GET", `/api/messenger/${path}/0?page=${page}`, undefined, reader.token);
          requests++;
          counts[path] += data.list.length;
          if (!data.hasNext) break;
        }
      }
      return [(performance.now() - t0) / 1000, cpu()] as const;
    });
    const got = counts["messages/sync"];
    return {
      "sync-10k": {
        seconds,
        messages: got,
        ...cpuFields(c),
        rss_mb: server.rssMb(),
        note: `${requests} requests: ${Object.entries(counts)
          .map(([p, n]) => `${p} ${n}`)
          .join(", ")}${got !== SYNC_MESSAGES ? ` (expected ${SYNC_MESSAGES} messages!)` : ""}`,
      },
    };
  } finally {
    await server.stop();
    await db.drop();
  }
}
