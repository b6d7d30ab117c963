// Shared schema helpers: the success envelope of §1.2 and small building blocks.
import Type, { type TSchema } from "typebox";
import { badRequest } from "./errors.js";
import { model } from "./openapi.js";

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** `{ status: "success", data }` (§1.2). */
export const Envelope = <T extends TSchema>(data: T) => Type.Object({ status: Type.Literal("success"), data });

/** A free JSON object (message bodies, metadata). */
export const AnyObject = Type.Record(Type.String(), Type.Unknown());

/**
 * A JSON integer that fits the id/bigint columns of both engines (at most 2^53-1, so it also
 * stays exact in JS): `1e20` is a 400 instead of a PostgreSQL overflow (500) or a SQLite float.
 */
export const IntId = (opts: { minimum?: number; description?: string } = {}) =>
  Type.Integer({ minimum: opts.minimum ?? 1, maximum: Number.MAX_SAFE_INTEGER, ...(opts.description ? { description: opts.description } : {}) });

const Count = Type.Integer({ description: "total number of items" });
const Limit = Type.Integer({ description: "page size" });

/** A numbered page of a list (§1.5): `page` 1, 2, … */
export const ListPage = <T extends TSchema>(name: string, item: T) => model(name, Type.Object({ list: Type.Array(item), count: Count, limit: Limit }));

/** A page of a list walked by cursor: pass `nextCursor` as `cursor` for the next one (null: no more). */
export const CursorPage = <T extends TSchema>(name: string, item: T) =>
  model(name, Type.Object({ list: Type.Array(item), count: Count, limit: Limit, nextCursor: Nullable(Type.Integer()) }));

/** A page of a sync endpoint (§9.5): the items twice (`list` and `alias`), `hasNext` while more pages follow. */
export const SyncPage = <T extends TSchema, K extends string>(name: string, item: T, alias: K) =>
  model(
    name,
    Type.Object({ list: Type.Array(item), [alias]: Type.Array(item), count: Count, limit: Limit, hasNext: Type.Boolean() } as {
      list: Type.TArray<T>;
      count: typeof Count;
      limit: typeof Limit;
      hasNext: Type.TBoolean;
    } & { [P in K]: Type.TArray<T> }),
  );

/** `{deleted: true}` of delete operations. */
export const Deleted = model("Deleted", Type.Object({ deleted: Type.Boolean() }));

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
