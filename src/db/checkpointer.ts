// WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside whichever commit
// crosses the threshold, and copying the WAL back and fsyncing it took up to ~30 ms there: the
// p99 of deliveries at 20 msg/s was that commit. A worker thread with its own connection
// checkpoints instead (PASSIVE: it never blocks the writer), and the writer's automatic
// checkpoint stays only as a backstop (see WRITER_AUTOCHECKPOINT_PAGES).
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/** The writer still checkpoints by itself once the WAL holds this many pages (~40 MB). */
export const WRITER_AUTOCHECKPOINT_PAGES = 10_000;

// CommonJS source evaluated in the worker: no file to locate next to the (bundled) server.
const SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const SQLite = require(workerData.driver);
const db = new SQLite(workerData.file);
db.pragma("busy_timeout = 1000");
const checkpoint = () => { try { db.pragma("wal_checkpoint(PASSIVE)"); } catch {} };
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.once("message", () => { clearInterval(timer); checkpoint(); db.close(); parentPort.close(); });
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

export function startCheckpointer(file: string, intervalMs = 500): Checkpointer {
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(SOURCE, { eval: true, workerData: { driver, file, intervalMs } });
  worker.unref();
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  return {
    async stop() {
      // Kept alive until its last checkpoint is done and its connection closed.
      worker.ref();
      worker.postMessage("stop");
      await exited;
    },
  };
}
