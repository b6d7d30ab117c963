// The job kinds this server knows and the worker that runs them (see queue.ts and worker.ts).
import type { AppContext } from "../context.js";
import { pushHandler } from "./handlers/push.js";
import { searchIndexUpkeep } from "./handlers/searchIndex.js";
import { smsHandler } from "./handlers/sms.js";
import { webhookHandler } from "./handlers/webhook.js";
import { Worker, type JobHandler, type WorkerOptions } from "./worker.js";

function jobHandlers(ctx: AppContext): Record<string, JobHandler> {
  return { sms: smsHandler(ctx), push: pushHandler(ctx), webhook: webhookHandler(ctx) };
}

/**
 * The worker and its handlers use the uncounted `backgroundDb`: theirs are not request statements.
 * Between jobs it keeps the search index up to date (src/modules/navigation/searchIndex.ts).
 */
export function createWorker(ctx: AppContext, opts?: WorkerOptions): Worker {
  const background = { ...ctx, db: ctx.backgroundDb };
  return new Worker(background, jobHandlers(background), { upkeep: searchIndexUpkeep(background), ...opts });
}
