// HTTP of sign-up, verification and logout (API.md §3.1–§3.3).
import Type from "typebox";
import type { App } from "../../app.js";
import { HttpError } from "../../http/errors.js";
import { Envelope, ok } from "../../http/schema.js";
import { Device, deviceView } from "../devices/views.js";
import { User, userView } from "../users/views.js";
import { logout, requestCode, verifyCode } from "./actions.js";
import { signUpView } from "./views.js";

// 191 characters: what upstream's columns hold; longer values are refused, never stored.
const NonEmpty = Type.String({ minLength: 1, maxLength: 191 });

export default async function authRoutes(app: App): Promise<void> {
  const { ctx } = app;

  app.post(
    "/api/messenger/auth",
    {
      schema: {
        tags: ["Auth"],
        summary: "Request a verification code (first step of sign-up)",
        body: Type.Object({ telephoneNumber: NonEmpty, deviceId: NonEmpty }),
        response: {
          200: Envelope(
            Type.Object({ isNewUser: Type.Boolean(), user: User, device: Device, browserDeviceId: Type.Optional(Type.String()) }),
          ),
        },
      },
    },
    async (request) => {
      const { isNewUser, user, device } = await requestCode(ctx, {
        telephoneNumber: request.body.telephoneNumber,
        deviceId: request.body.deviceId,
        headers: request.headers,
        ip: request.ip,
      });
      return ok(signUpView(isNewUser, user, device));
    },
  );

  app.get("/api/messenger/auth", { schema: { hide: true } }, async () => {
    throw new HttpError(405, "Method not allowed", { Allow: "OPTIONS, POST" });
  });

  app.post(
    "/api/messenger/auth/verify",
    {
      schema: {
        tags: ["Auth"],
        summary: "Verify the SMS code and receive the device's access token",
        body: Type.Object({ code: NonEmpty, deviceId: NonEmpty }),
        response: { 200: Envelope(Type.Object({ user: User, device: Device })) },
      },
    },
    async (request) => {
      const { user, device, token } = await verifyCode(ctx, { ...request.body, ip: request.ip });
      return ok({ user: userView(user), device: deviceView(device, token) });
    },
  );

  app.post(
    "/api/messenger/auth/logout",
    {
      config: { auth: "device" },
      schema: {
        tags: ["Auth"],
        summary: "Invalidate the access token",
        response: { 200: Envelope(Type.Object({ device: Device })) },
      },
    },
    async (request) => ok({ device: deviceView(await logout(ctx, request.auth.device.id), null) }),
  );
}
