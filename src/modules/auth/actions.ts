// Sign-up, verification, logout and token checks (API.md §2.1–§2.2, §3.1–§3.3).
import type { FastifyRequest } from "fastify";
import { isOperator, type Actor } from "../../actor.js";
import { transact, type AppContext } from "../../context.js";
import type { DeviceRow, UserRow } from "../../db/schema.js";
import { newCode, newToken, safeEqual, sha256Hex } from "../../crypto.js";
import { forbidden, notFound, tooManyRequests, unauthorized } from "../../http/errors.js";
import { enqueue } from "../../jobs/queue.js";
import type { DeviceAuth } from "../../http/auth.js";
import { findDeviceByDeviceId, findDeviceByTokenHash } from "../devices/queries.js";
import { findUser, findUserByPhone } from "../users/queries.js";
import { recordAudit } from "../audit/actions.js";

const DAY = 24 * 60 * 60 * 1000;
export const TOKEN_LIFETIME_MS = 30 * DAY;
const TOKEN_REFRESH_WINDOW_MS = 7 * DAY;
const CODE_LIFETIME_MS = 10 * 60 * 1000;
export const MAX_CODE_ATTEMPTS = 5;
/** The window of the sign-up limits: per number and per IP on /auth, per IP on /auth/verify. */
const AUTH_WINDOW_MS = 10 * 60 * 1000;
const TEST_CODE = "000000";

/** Optional client headers mapped to device columns (§2.1). `device-type` only at sign-up. */
const DEVICE_HEADERS = {
  "os-name": "osName",
  "os-version": "osVersion",
  "device-name": "deviceName",
  "app-version": "appVersion",
} as const;

type Headers = FastifyRequest["headers"];
const header = (headers: Headers, name: string): string | undefined => {
  const v = headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s === "" ? undefined : s;
};

function deviceFieldsFrom(headers: Headers, device?: DeviceRow): Partial<DeviceRow> {
  const changes: Partial<DeviceRow> = {};
  for (const [name, column] of Object.entries(DEVICE_HEADERS)) {
    const value = header(headers, name);
    if (value !== undefined && value !== device?.[column]) changes[column] = value;
  }
  return changes;
}

export interface SignUpResult {
  isNewUser: boolean;
  user: UserRow;
  device: DeviceRow;
}

/** §3.1: creates or finds the user, binds the device (logged out) and sends a code. */
export async function requestCode(ctx: AppContext, input: { telephoneNumber: string; deviceId: string; headers: Headers; ip: string }): Promise<SignUpResult> {
  const { telephoneNumber, deviceId, headers } = input;
  await ctx.limiter.hit(`auth:number:${telephoneNumber}`, 5, AUTH_WINDOW_MS);
  await ctx.limiter.hit(`auth:ip:${input.ip}`, 30, AUTH_WINDOW_MS);

  const isBrowser = header(headers, "device-type") === "browser";
  const fixedCode = ctx.config.isTest || ctx.config.testerPhoneNumbers.has(telephoneNumber);
  const code = fixedCode ? TEST_CODE : newCode();
  const now = Date.now();

  const { rebound, ...result } = await transact(ctx, async (tx, after) => {
    const existing = await findDeviceByDeviceId(tx, deviceId);
    if (existing?.tokenHash && existing.tokenExpiredAt !== null && existing.tokenExpiredAt > now && !isBrowser) {
      const owner = await findUser(tx, existing.userId);
      if (owner && owner.verified === 1 && owner.telephoneNumber !== telephoneNumber) {
        throw forbidden("There is already phone number tied to this device");
      }
    }

    await tx
      .insertInto("users")
      .values({ telephoneNumber, telephoneNumberHashed: sha256Hex(telephoneNumber), createdAt: now, modifiedAt: now })
      .onConflict((oc) => oc.column("telephoneNumber").doNothing())
      .execute();
    const found = await findUserByPhone(tx, telephoneNumber);
    if (!found) throw new Error("user vanished during sign-up");
    const isNewUser = !found.displayName;
    const user = await tx
      .updateTable("users")
      .set({ verificationCodeHash: sha256Hex(code), verificationCodeExpiresAt: now + CODE_LIFETIME_MS, verificationAttempts: 0 })
      .where("id", "=", found.id)
      .returningAll()
      .executeTakeFirstOrThrow();

    // Re-binding to another user, or any non-browser sign-up, logs the device out: the
    // token only comes back from a successful verify (closes the §3.1 takeover).
    const rebind = (current: DeviceRow) => {
      const loggedOut = current.userId !== user.id || !isBrowser ? { tokenHash: null, tokenExpiredAt: now, pushToken: null } : {};
      return tx
        .updateTable("devices")
        .set({ ...deviceFieldsFrom(headers, current), ...loggedOut, userId: user.id, type: header(headers, "device-type") ?? current.type, modifiedAt: now })
        .where("id", "=", current.id)
        .returningAll()
        .executeTakeFirstOrThrow();
    };
    let device: DeviceRow;
    if (existing) {
      device = await rebind(existing);
    } else {
      const created = await tx
        .insertInto("devices")
        .values({ ...deviceFieldsFrom(headers), deviceId, userId: user.id, type: header(headers, "device-type") ?? null, createdAt: now, modifiedAt: now })
        .onConflict((oc) => oc.column("deviceId").doNothing())
        .returningAll()
        .executeTakeFirst();
      if (created) {
        device = created;
      } else {
        // A concurrent sign-up created this device first (it has no token yet): bind it as if
        // that request had come before this one.
        const concurrent = await findDeviceByDeviceId(tx, deviceId);
        if (!concurrent) throw new Error("device vanished during sign-up");
        device = await rebind(concurrent);
      }
    }

    if (!fixedCode) {
      let text = `Thank you for your signup request. Your verification code is ${code}`;
      if (header(headers, "os-name") === "android" && ctx.config.androidSmsVerificationHash) {
        text += `\n\n${ctx.config.androidSmsVerificationHash}`;
      }
      // Sent by the job worker once this commits; a crash in between loses nothing.
      await enqueue(tx, "sms", { to: telephoneNumber, text }, { after });
    }
    return { isNewUser, user, device, rebound: !!existing };
  });
  // A re-bound device was logged out: its old token must fail everywhere.
  if (rebound) await ctx.bus.revoke({ deviceIds: [result.device.id] });
  return result;
}

/** §3.2: checks the code (5 tries per code) and issues the device's access token. */
export async function verifyCode(ctx: AppContext, input: { code: string; deviceId: string; ip: string }): Promise<{ user: UserRow; device: DeviceRow; token: string }> {
  // Before the device lookup: guessing device ids costs tries too.
  await ctx.limiter.hit(`verify:ip:${input.ip}`, 60, AUTH_WINDOW_MS);
  const now = Date.now();
  const device = await findDeviceByDeviceId(ctx.db, input.deviceId);
  if (!device) throw notFound("Device not found");

  // Every try is counted before the comparison, atomically, so parallel guesses cannot
  // get past the limit. Committed on its own: a wrong code still counts.
  const counted = await transact(ctx, (tx) =>
    tx
      .updateTable("users")
      .set((eb) => ({ verificationAttempts: eb("verificationAttempts", "+", 1) }))
      .where("id", "=", device.userId)
      .where("verificationAttempts", "<", MAX_CODE_ATTEMPTS)
      .where("verificationCodeHash", "is not", null)
      .returningAll()
      .executeTakeFirst(),
  );
  if (!counted) {
    const user = await findUser(ctx.db, device.userId);
    if (user?.verificationCodeHash && user.verificationAttempts >= MAX_CODE_ATTEMPTS) {
      // The code stays locked until it expires; a new code can be requested at once.
      const locked = (user.verificationCodeExpiresAt ?? now) - now;
      throw tooManyRequests(Math.max(1, Math.ceil(locked / 1000)), "Too many wrong codes: request a new verification code");
    }
    throw forbidden("Verification code is invalid");
  }
  const expired = counted.verificationCodeExpiresAt === null || counted.verificationCodeExpiresAt < now;
  if (expired || !safeEqual(counted.verificationCodeHash ?? "", sha256Hex(input.code))) {
    throw forbidden(expired ? "Verification code is expired" : "Verification code is invalid");
  }

  const token = newToken();
  const verified = await transact(ctx, async (tx) => {
    // Consumes the code: only one verify can clear the hash it matched (a code issues one
    // token, even when several devices of the user present it at once).
    const user = await tx
      .updateTable("users")
      .set({ verificationCodeHash: null, verificationCodeExpiresAt: null, verificationAttempts: 0, verified: 1 })
      .where("id", "=", counted.id)
      .where("verificationCodeHash", "=", counted.verificationCodeHash)
      .returningAll()
      .executeTakeFirst();
    if (!user) throw forbidden("Verification code is invalid");
    // Single-mobile-device policy (§3.1 step 4), applied once the number is proven: signing in
    // on a mobile device logs the user's other mobile devices out. (At POST /auth it would let
    // anyone who knows a number log its owner out.)
    if (ctx.config.singleMobileDevice && device.type !== "browser") {
      await tx
        .updateTable("devices")
        .set({ tokenHash: null, tokenExpiredAt: now, pushToken: null, modifiedAt: now })
        .where("userId", "=", user.id)
        .where("id", "!=", device.id)
        .where((eb) => eb.or([eb("type", "is", null), eb("type", "!=", "browser")]))
        .execute();
    }
    const updated = await tx
      .updateTable("devices")
      .set({ tokenHash: sha256Hex(token), tokenExpiredAt: now + TOKEN_LIFETIME_MS, pushToken: null, modifiedAt: now })
      .where("id", "=", device.id)
      .where("userId", "=", user.id)
      .returningAll()
      .executeTakeFirst();
    if (!updated) throw notFound("Device not found");
    return { user, device: updated, token };
  });
  // The device's previous token, the user row (now verified) and, with SINGLE_MOBILE_DEVICE,
  // the other devices' tokens all changed.
  await ctx.bus.revoke({ userIds: [verified.user.id] });
  return verified;
}

/**
 * §3.3: the token dies at once and the device's open streams close. A user logs out a device
 * of theirs, or an operator expires any device (`userId`: the owner the operator named, checked here).
 */
export async function logout(ctx: AppContext, by: Actor, deviceId: number, userId?: number): Promise<DeviceRow> {
  const owner = isOperator(by) ? userId : by.user.id;
  const device = await transact(ctx, async (tx, after) => {
    const now = Date.now();
    let update = tx.updateTable("devices").set({ tokenHash: null, tokenExpiredAt: now, pushToken: null, modifiedAt: now }).where("id", "=", deviceId);
    if (owner !== undefined) update = update.where("userId", "=", owner);
    const device = await update.returningAll().executeTakeFirst();
    if (!device) throw notFound("Device not found");
    after.emit({ userIds: [], deviceIds: [device.id], data: { type: "LOGOUT" }, closeStreams: true });
    if (isOperator(by)) await recordAudit(tx, by, { action: "device.expire", targetType: "device", targetId: device.id, details: { userId: device.userId } });
    return device;
  });
  // Every instance forgets the token before the answer (src/http/tokenCache.ts).
  await ctx.bus.revoke({ deviceIds: [device.id] });
  return device;
}

/**
 * §2.1–§2.2: resolves a device token, applies header updates and the sliding refresh. Answered
 * from the token cache (src/http/tokenCache.ts) unless the token is due for its refresh or the
 * request brings device headers that differ from the stored ones.
 */
export async function authenticateDevice(ctx: AppContext, token: string, headers: Headers): Promise<DeviceAuth> {
  const now = Date.now();
  const cached = ctx.tokens.get(token, now);
  if (cached && cached.device.tokenExpiredAt! > now && Object.keys(deviceFieldsFrom(headers, cached.device)).length === 0) return cached;
  const mark = ctx.tokens.mark();
  const auth = await lookUpDevice(ctx, token, headers, now);
  ctx.tokens.fill(mark, auth, auth.device.tokenExpiredAt! - TOKEN_REFRESH_WINDOW_MS, now);
  return auth;
}

async function lookUpDevice(ctx: AppContext, token: string, headers: Headers, now: number): Promise<DeviceAuth> {
  const device = await findDeviceByTokenHash(ctx.db, sha256Hex(token));
  if (!device) throw unauthorized("Invalid access token");
  if (device.tokenExpiredAt === null || device.tokenExpiredAt <= now) throw unauthorized("Expired access token");
  const user = await findUser(ctx.db, device.userId);
  if (!user) throw unauthorized("User not found");
  if (user.verified !== 1) throw unauthorized("User is not verified");
  if (user.deleted === 1) throw unauthorized("User is deleted");

  const changes: Partial<DeviceRow> = deviceFieldsFrom(headers, device);
  if (device.tokenExpiredAt - now < TOKEN_REFRESH_WINDOW_MS) changes.tokenExpiredAt = now + TOKEN_LIFETIME_MS;
  if (Object.keys(changes).length === 0) return { user, device, token };
  // Rare enough for a transaction of its own (BEGIN and COMMIT cost two more round trips on
  // PostgreSQL): the token cache answers every request in between, and a device reaches this
  // once per refresh window or when its app reports new device headers.
  const updated = await transact(ctx, (tx) =>
    tx
      .updateTable("devices")
      .set({ ...changes, modifiedAt: now })
      .where("id", "=", device.id)
      .returningAll()
      .executeTakeFirst(),
  );
  return { user, device: updated ?? device, token };
}
