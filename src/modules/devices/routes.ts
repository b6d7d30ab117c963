// The caller's device and its push token (§3.12, §3.13).
import Type from "typebox";
import type { App } from "../../app.js";
import { op } from "../../http/openapi.js";
import { Envelope, ok } from "../../http/schema.js";
import { currentDevice, setPushToken } from "./actions.js";
import { Device, deviceView } from "./views.js";

export default async function deviceRoutes(app: App): Promise<void> {
  const { ctx } = app;
  const response = { 200: Envelope(Type.Object({ device: Device })) };

  app.get(
    "/api/messenger/device",
    {
      config: { auth: "device" },
      schema: op({
        operationId: "getDevice",
        tags: ["Device"],
        summary: "The caller's device",
        description: "The device behind the access token, with that token. A device is only ever shown to its owner.",
        response,
      }),
    },
    async (request) => ok({ device: deviceView(await currentDevice(ctx, request.auth), request.auth.token) }),
  );

  app.put(
    "/api/messenger/device",
    {
      config: { auth: "device" },
      schema: op({
        operationId: "updateDevice",
        tags: ["Device"],
        summary: "Update the push token (nothing else changes)",
        description: "Sets the FCM push token of the caller's device; push notifications for new messages go to it while no stream of the device is open.",
        body: Type.Object({ pushToken: Type.Optional(Type.String()) }),
        response,
      }),
    },
    async (request) => {
      const device = await setPushToken(ctx, request.auth, request.body.pushToken);
      return ok({ device: deviceView(device, request.auth.token) });
    },
  );
}
