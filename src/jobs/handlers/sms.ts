// 'sms' jobs (§7.1): one verification SMS, enqueued by POST /auth in its transaction.
import type { AppContext } from "../../context.js";
import { SmsProviderError } from "../../providers/sms.js";
import { PermanentJobError, type JobHandler } from "../worker.js";

export interface SmsJob {
  to: string;
  text: string;
}

/**
 * Retried when the provider could not be reached or asked to slow down (429, 503). Any other
 * answer is final: after an error answer the SMS may still have gone out, and a duplicate code
 * costs money and confuses; the user can ask for a new code.
 */
export function smsHandler(ctx: AppContext): JobHandler {
  return {
    async run(payload: SmsJob) {
      try {
        await ctx.sms.send(payload.to, payload.text);
      } catch (err) {
        if (err instanceof SmsProviderError && err.status !== 429 && err.status !== 503) throw new PermanentJobError(err.message);
        throw err;
      }
    },
    // A failed job is kept: without the code in it.
    redact: (payload: SmsJob) => ({ to: payload.to, text: payload.text.replace(/\d{4,}/g, "<code>") }),
  };
}
