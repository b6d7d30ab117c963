// User rows → the User model of API.md §2.5.
import Type from "typebox";
import { model } from "../../http/openapi.js";
import type { UserRow } from "../../db/schema.js";
import { Nullable } from "../../http/schema.js";

export const User = model(
  "User",
  Type.Object({
    id: Type.Integer(),
    displayName: Nullable(Type.String()),
    avatarFileId: Type.Integer(),
    telephoneNumber: Nullable(Type.String()),
    telephoneNumberHashed: Nullable(Type.String()),
    emailAddress: Nullable(Type.String()),
    verified: Type.Boolean(),
    createdAt: Type.Integer(),
    modifiedAt: Type.Integer(),
    isBot: Type.Boolean(),
    deleted: Type.Boolean(),
    shortDescription: Nullable(Type.String()),
    longDescription: Nullable(Type.String()),
    coverFileId: Nullable(Type.Integer()),
    blockedBy: Type.Optional(Type.Array(Type.Object({ userId: Type.Integer() }))),
  }),
);
export type UserView = Type.Static<typeof User>;

/**
 * The User model. For a viewer who does not know the user (`known` false, see whoKnowsWhom in
 * queries.ts) the contact details are null: telephone number, its hash (a hash of a phone
 * number is as good as the number) and e-mail address.
 */
export function userView(u: UserRow, known = true): UserView {
  return {
    id: u.id,
    displayName: u.displayName,
    avatarFileId: u.avatarFileId,
    telephoneNumber: known ? u.telephoneNumber : null,
    telephoneNumberHashed: known ? u.telephoneNumberHashed : null,
    emailAddress: known ? u.emailAddress : null,
    verified: u.verified === 1,
    createdAt: u.createdAt,
    modifiedAt: u.modifiedAt,
    isBot: u.isBot === 1,
    deleted: u.deleted === 1,
    shortDescription: u.shortDescription,
    longDescription: u.longDescription,
    coverFileId: u.coverFileId,
  };
}
