// Random secrets and their stored form (tokens and codes are never stored in clear).
import { createHash, randomBytes, randomInt, scrypt, scryptSync, timingSafeEqual, type ScryptOptions } from "node:crypto";

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

// Password hashes: `scrypt$<N>$<r>$<p>$<salt, base64url>$<64-byte key, base64url>`.
const SCRYPT = { N: 16384, r: 8, p: 1 };
const KEY_LENGTH = 64;
const HASH_PATTERN = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]{16,})\$([A-Za-z0-9_-]{86})$/;

export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const key = scryptSync(password, salt, KEY_LENGTH, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

export const isPasswordHash = (value: string): boolean => {
  const m = HASH_PATTERN.exec(value);
  if (!m) return false;
  const N = Number(m[1]);
  return N >= 2 && N <= 1 << 20 && (N & (N - 1)) === 0 && Number(m[2]) >= 1 && Number(m[2]) <= 32 && Number(m[3]) >= 1 && Number(m[3]) <= 16;
};

const scryptAsync = (password: string, salt: Buffer, length: number, options: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scrypt(password, salt, length, options, (err, key) => (err ? reject(err) : resolve(key))));

/**
 * Compares in constant time; the key derivation (off the event loop) costs the same for every
 * wrong password.
 */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const m = HASH_PATTERN.exec(hash);
  if (!m) return false;
  const expected = Buffer.from(m[5], "base64url");
  const options = { N: Number(m[1]), r: Number(m[2]), p: Number(m[3]), maxmem: 256 * 1024 * 1024 };
  const key = await scryptAsync(password, Buffer.from(m[4], "base64url"), expected.length, options);
  return timingSafeEqual(key, expected);
}
