// Multi-process mode (`WORKERS=N`, N > 1): the primary applies the migrations, forks N workers
// that each run a full server on the same port (node:cluster hands them the connections), relays
// events between them when there is no Redis (src/realtime/clusterBus.ts), runs the SQLite
// checkpointer once for all of them, restarts a worker that dies, and stops them all on
// SIGINT/SIGTERM. It serves no requests itself.
import cluster, { type Worker } from "node:cluster";
import type { Logger } from "pino";
import type { Config } from "./config.js";
import { readyFacts, readyLine } from "./log.js";
import { relayBetweenWorkers } from "./realtime/clusterBus.js";
import { openMigrated } from "./server.js";

type Control = { spika: "ready"; url: string } | { spika: "stop" };

/** A worker that dies sooner than this after its start is restarted only after RESTART_DELAY_MS. */
const QUICK_DEATH_MS = 5000;
const RESTART_DELAY_MS = 1000;

/** In a worker: tells the primary that this worker's server listens at `url`. */
export function announceReady(url: string): void {
  process.send?.({ spika: "ready", url } satisfies Control);
}

/** In a worker: `stop` runs when the primary shuts the server down. */
export function onPrimaryStop(stop: () => void): void {
  process.on("message", (msg: Control) => {
    if (msg?.spika === "stop") stop();
  });
}

/** Runs the primary until every worker has stopped after a signal; resolves with the exit code. */
export async function runPrimary(config: Config, log: Logger): Promise<number> {
  // Once, before any worker opens the database (they find nothing left to apply). On SQLite this
  // connection also runs the one checkpointer of the file.
  const database = await openMigrated(config, log);
  relayBetweenWorkers();
  const startedAt = new Map<number, number>();
  const fork = (): Worker => {
    const worker = cluster.fork();
    startedAt.set(worker.id, Date.now());
    return worker;
  };

  let ready = false;
  let stopping = false;
  let failed = false;
  const allStopped = new Promise<void>((resolve) => {
    cluster.on("exit", (worker, code, signal) => {
      if (stopping || !ready) {
        // A worker that did not stop cleanly, or could not start, makes the server exit 1.
        if (code !== 0) failed = true;
        if (Object.keys(cluster.workers ?? {}).length === 0) resolve();
        if (!stopping) {
          // Its error is on stderr; the others (perhaps still starting) stop too.
          stopping = true;
          log.error({ pid: worker.process.pid, code, signal }, "a worker failed to start: stopping");
          for (const other of Object.values(cluster.workers ?? {})) other?.process.kill("SIGTERM");
        }
        return;
      }
      const lived = Date.now() - (startedAt.get(worker.id) ?? 0);
      log.error({ pid: worker.process.pid, code, signal }, "worker died: starting another");
      setTimeout(fork, lived < QUICK_DEATH_MS ? RESTART_DELAY_MS : 0).unref();
    });
  });

  function stop(reason: string): void {
    if (stopping) return;
    stopping = true;
    log.info(`${reason}: stopping ${Object.keys(cluster.workers ?? {}).length} workers (each finishes its in-flight requests)`);
    for (const worker of Object.values(cluster.workers ?? {})) if (worker?.isConnected()) worker.send({ spika: "stop" } satisfies Control);
  }
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (!stopping) return stop(signal);
      log.warn(`${signal} again: exiting at once`);
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGKILL");
      process.exit(1);
    });
  }

  const urls: string[] = [];
  cluster.on("message", (_worker, msg: Control) => {
    if (msg?.spika !== "ready" || ready) return;
    urls.push(msg.url);
    if (urls.length < config.workers) return;
    ready = true;
    log.info({ url: urls[0], workers: config.workers, ...readyFacts(config) }, readyLine(config, urls[0], config.workers));
  });
  for (let i = 0; i < config.workers; i++) fork();

  await allStopped;
  await database.close();
  log.info("stopped");
  return failed ? 1 : 0;
}
