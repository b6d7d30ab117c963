// 'webhook' jobs (§8.1): one per (message, webhook of its room), enqueued by createMessage in its
// transaction for every message but system messages. What is sent is decided by src/modules/webhooks;
// this signs it and POSTs it. Non-2xx answers and network errors are retried by the queue; a target
// the SSRF guard refuses fails at once.
import { createHmac } from "node:crypto";
import type { AppContext } from "../../context.js";
import { webhookCall } from "../../modules/webhooks/queries.js";
import { postJson, RefusedTargetError } from "../../providers/safeHttp.js";
import { PermanentJobError, type JobHandler } from "../worker.js";

export interface WebhookJob {
  webhookId: number;
  messageId: number;
}

export const WEBHOOK_TIMEOUT_MS = 10_000;

/** `X-Spika-Signature`: HMAC-SHA256 of the exact body bytes, keyed with the webhook's secret. */
export const webhookSignature = (secret: string, body: string) => `sha256=${createHmac("sha256", secret).update(body, "utf8").digest("hex")}`;

export function webhookHandler(ctx: AppContext, opts: { timeoutMs?: number } = {}): JobHandler {
  return {
    async run(payload: WebhookJob) {
      const call = await webhookCall(ctx.db, payload.webhookId, payload.messageId);
      // Removed meanwhile: nothing to call.
      if (!call) return;
      const { hook, body } = call;
      let status: number;
      try {
        ({ status } = await postJson(
          hook.url,
          body,
          {
            "Content-Type": "application/json",
            "Verification-Signature": hook.verifySignature,
            "X-Spika-Signature": webhookSignature(hook.verifySignature, body),
          },
          { timeoutMs: opts.timeoutMs ?? WEBHOOK_TIMEOUT_MS, allowPrivate: ctx.config.webhookAllowPrivate },
        ));
      } catch (err) {
        if (err instanceof RefusedTargetError) {
          ctx.log.warn({ webhookId: hook.id, url: hook.url, err: err.message }, "webhook target refused (WEBHOOK_ALLOW_PRIVATE is off)");
          throw new PermanentJobError(`refused target: ${err.message}`);
        }
        throw new Error(`webhook not reached: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (status < 200 || status > 299) throw new Error(`webhook answered ${status}`);
    },
  };
}
