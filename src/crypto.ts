// Random secrets and their stored form (tokens and codes are never stored in clear).
import { createHash, randomBytes, randomInt, timingSafeEqual } from "node:crypto";

export const sha256Hex = (value: string): string => createHash("sha256").update(value, "utf8").digest("hex");

/** 32 random bytes as base64url (43 characters). */
export const newToken = (): string => randomBytes(32).toString("base64url");

/** Six random decimal digits. */
export const newCode = (): string => String(randomInt(0, 1_000_000)).padStart(6, "0");

/** `length` random characters of [A-Za-z0-9]. */
export function randomAlnum(length: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[randomInt(0, alphabet.length)];
  return out;
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
