// The job kinds this server knows and the worker that runs them (see queue.ts and worker.ts).
import type { AppContext } from "../context.js";
import { pushHandler } from "./handlers/push.js";
import { smsHandler } from "./handlers/sms.js";
import { webhookHandler } from "./handlers/webhook.js";
import { Worker, type JobHandler, type WorkerOptions } from "./worker.js";

export function jobHandlers(ctx: AppContext): Record<string, JobHandler> {
  return { sms: smsHandler(ctx), push: pushHandler(ctx), webhook: webhookHandler(ctx) };
}

export const createWorker = (ctx: AppContext, opts?: WorkerOptions): Worker => new Worker(ctx, jobHandlers(ctx), opts);
