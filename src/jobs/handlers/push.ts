// 'push' jobs (§7.2): one per NEW_MESSAGE, enqueued by createMessage in its transaction. Who gets
// which push is decided when the job runs, by src/modules/push; this sends them and reports back.
import type { AppContext } from "../../context.js";
import { clearPushToken } from "../../modules/devices/actions.js";
import { pushesFor } from "../../modules/push/queries.js";
import { createPushSender, type PushSender } from "../../providers/push.js";
import { RetryJobError, type JobHandler } from "../worker.js";

export interface PushJob {
  messageId: number;
  /** Set on a retry: only these devices are still to be reached. */
  deviceIds?: number[];
}

/** Pushes sent at once per job. */
const PARALLEL = 16;

export function pushHandler(ctx: AppContext, sender: PushSender = createPushSender(ctx.config, ctx.log)): JobHandler {
  return {
    async run(payload: PushJob) {
      const { messageId } = payload;
      const pushes = await pushesFor(ctx.db, messageId, payload.deviceIds);
      const retry: number[] = [];
      const errors: string[] = [];
      for (let i = 0; i < pushes.length; i += PARALLEL) {
        await Promise.all(
          pushes.slice(i, i + PARALLEL).map(async ({ device, message }) => {
            const outcome = await sender.send(message, { deviceId: device.id, messageId });
            if (outcome.result === "sent") return;
            if (outcome.result === "unregistered") {
              await clearPushToken(ctx, device.id, message.token);
              ctx.log.info({ deviceId: device.id, err: outcome.error }, "push token unregistered: cleared");
            } else if (outcome.result === "transient") {
              retry.push(device.id);
              errors.push(outcome.error);
            } else {
              ctx.log.warn({ deviceId: device.id, messageId, err: outcome.error }, "push rejected");
            }
          }),
        );
      }
      if (retry.length > 0) {
        throw new RetryJobError(`push failed for ${retry.length} of ${pushes.length} devices: ${errors[0]}`, { messageId, deviceIds: retry.sort((a, b) => a - b) });
      }
    },
  };
}
