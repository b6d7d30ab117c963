// SMS providers (§7.1): `console` writes the text to the log; `twilio` calls Twilio's REST API.
import type { Logger } from "pino";
import type { Config } from "../config.js";

/** The provider answered with an error status (as opposed to not answering at all). */
export class SmsProviderError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export interface SmsSender {
  send(to: string, text: string): Promise<void>;
}

export function createSmsSender(config: Config, log: Logger): SmsSender {
  const twilio = config.twilio;
  if (config.smsProvider === "twilio" && twilio) {
    return {
      async send(to, text) {
        const res = await fetch(`${twilio.baseUrl}/2010-04-01/Accounts/${encodeURIComponent(twilio.accountSid)}/Messages.json`, {
          method: "POST",
          headers: {
            authorization: `Basic ${Buffer.from(`${twilio.accountSid}:${twilio.authToken}`).toString("base64")}`,
            "content-type": "application/x-www-form-urlencoded",
          },
          body: new URLSearchParams({ To: to, From: twilio.from, Body: text }).toString(),
          signal: AbortSignal.timeout(10_000),
        });
        if (!res.ok) throw new SmsProviderError(`Twilio answered ${res.status}: ${(await res.text()).slice(0, 200)}`, res.status);
      },
    };
  }
  return {
    async send(to, text) {
      log.info({ to, sms: text }, "SMS (console provider)");
    },
  };
}
