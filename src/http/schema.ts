// Shared schema helpers: the success envelope of §1.2 and small building blocks.
import Type, { type TSchema } from "typebox";
import { badRequest } from "./errors.js";

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** `{ status: "success", data }` (§1.2). */
export const Envelope = <T extends TSchema>(data: T) =>
  Type.Object({ status: Type.Literal("success"), data });

export const ErrorEnvelope = Type.Object({ status: Type.Literal("error"), message: Type.String() });

/** A free JSON object (message bodies, metadata). */
export const AnyObject = Type.Record(Type.String(), Type.Unknown());

/**
 * A JSON integer that fits the id/bigint columns of both engines (at most 2^53-1, so it also
 * stays exact in JS): `1e20` is a 400 instead of a PostgreSQL overflow (500) or a SQLite float.
 */
export const IntId = (opts: { minimum?: number; description?: string } = {}) =>
  Type.Integer({ minimum: opts.minimum ?? 1, maximum: Number.MAX_SAFE_INTEGER, ...(opts.description ? { description: opts.description } : {}) });

/** Path parameter that must be a positive integer; other values are the route's own 400/404. */
export const IdParam = (name: string) => Type.Object({ [name]: Type.String() });

export const ok = <T>(data: T) => ({ status: "success" as const, data });

/** Parses a base-10 positive integer path/query value; anything else gives null. */
export function positiveInt(value: unknown): number | null {
  if (typeof value === "number") return Number.isSafeInteger(value) && value > 0 ? value : null;
  if (typeof value !== "string" || !/^\d+$/.test(value)) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

/** List `page` (§1.5): missing or non-numeric means 1. */
export const pageOf = (value: unknown): number => positiveInt(value) ?? 1;

/** Sync endpoints (§1.5) are strict: a non-numeric time or page is a 400 naming it. */
export function requiredNumber(value: unknown, name: string): number {
  if (typeof value === "string" && /^\d+$/.test(value)) {
    const n = Number(value);
    if (Number.isSafeInteger(n)) return n;
  }
  throw badRequest(`${name} must be number`);
}

export const syncPage = (value: unknown): number => {
  if (value === undefined || value === "") return 1;
  const n = requiredNumber(value, "page");
  if (n < 1) throw badRequest("page must be number");
  return n;
};

/** A path id validated like a body field: before any lookup, a malformed one is a 400 naming it. */
export function pathId(value: string, name: string): number {
  const id = positiveInt(value);
  if (id === null) throw badRequest(`${name} must be number`);
  return id;
}
