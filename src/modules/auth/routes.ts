// HTTP of sign-up, verification and logout (API.md §3.1–§3.3).
import Type from "typebox";
import type { App } from "../../app.js";
import { HttpError } from "../../http/errors.js";
import { op } from "../../http/openapi.js";
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
      schema: op({
        operationId: "requestVerificationCode",
        tags: ["Auth"],
        summary: "Request a verification code (first step of sign-up)",
        description:
          "Creates the user for a new number (`isNewUser`) or finds it, binds the device (`deviceId`, chosen by the client, with the optional headers `os-name`, `os-version`, `device-name`, `app-version`, `device-type`) and sends the 6-digit code by SMS. The device is logged out until verified: `device.token` is null. On a non-browser device the user's other mobile devices are logged out. Rate-limited per number (5) and per IP (30) per 10 minutes.",
        body: Type.Object({ telephoneNumber: NonEmpty, deviceId: NonEmpty }),
        errors: { 403: ["There is already phone number tied to this device"], 429: ["Too many requests"] },
        response: {
          200: Envelope(Type.Object({ isNewUser: Type.Boolean(), user: User, device: Device, browserDeviceId: Type.Optional(Type.String()) })),
        },
      }),
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

  const getAuth = op({
    operationId: "getAuthNotAllowed",
    tags: ["Auth"],
    summary: "Not allowed: sign-up is POST",
    description: "Answers 405 so that a client using the wrong method learns it (upstream compatibility).",
    errors: { 405: ["Method not allowed"] },
  });
  app.get("/api/messenger/auth", { schema: getAuth }, async () => {
    throw new HttpError(405, "Method not allowed", { Allow: "OPTIONS, POST" });
  });

  app.post(
    "/api/messenger/auth/verify",
    {
      schema: op({
        operationId: "verifyCode",
        tags: ["Auth"],
        summary: "Verify the SMS code and receive the device's access token",
        description:
          "On success the user is verified and `device.token` is the access token (send it as the `accesstoken` header), valid 30 days and extended while used. A code expires after 10 minutes and is used once; wrong codes are limited per code (then 429: request a new one).",
        body: Type.Object({ code: NonEmpty, deviceId: NonEmpty }),
        response: { 200: Envelope(Type.Object({ user: User, device: Device })) },
        errors: {
          403: ["Verification code is invalid", "Verification code is expired"],
          404: ["Device not found"],
          429: ["Too many wrong codes: request a new verification code"],
        },
      }),
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
      schema: op({
        operationId: "logout",
        tags: ["Auth"],
        summary: "Invalidate the access token",
        description: "Clears the device's token and push token; the old token then answers 401. `device.token` is null in the answer.",
        response: { 200: Envelope(Type.Object({ device: Device })) },
        errors: { 404: ["Device not found"] },
      }),
    },
    async (request) => ok({ device: deviceView(await logout(ctx, request.auth, request.auth.device.id), null) }),
  );
}
