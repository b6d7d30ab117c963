// Who acts. Every action takes the acting party as one of these types: `me: Me` (or
// `me: MeOnDevice` when it needs the device), `by: Actor` where a user or an operator may act, and
// `by: Operator` where only an operator may. Queries and access helpers are read-only loaders and
// take the viewer's id (`viewerId: number`) instead.
import type { DeviceRow, UserRow } from "./db/schema.js";

/**
 * A user acting on their own behalf, as authenticated: the user row and the device the request
 * came from, or null for a bot posting with a room API key. A request's device auth is a Me
 * (src/http/auth.ts), so building one costs no query.
 */
export interface Me {
  user: UserRow;
  device: DeviceRow | null;
}

/** A user acting from one of their devices (every request of the messenger API). */
export interface MeOnDevice extends Me {
  device: DeviceRow;
}

/** An operator acting on others' data: `admin:<username>` (management API) or `cli:<os user>`. */
export interface Operator {
  operator: string;
}

/** Who asks for a change that either a user or an operator can make. */
export type Actor = Me | Operator;

export const isOperator = (actor: Actor): actor is Operator => "operator" in actor;
