// User rows → the User model of API.md §2.5.
import Type from "typebox";
import { model } from "../../http/openapi.js";
import type { UserRow } from "../../db/schema.js";
import { Nullable } from "../../http/schema.js";

export const User = model("User", Type.Object({
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
}));
export type UserView = Type.Static<typeof User>;

export function userView(u: UserRow): UserView {
  return {
    id: u.id,
    displayName: u.displayName,
    avatarFileId: u.avatarFileId,
    telephoneNumber: u.telephoneNumber,
    telephoneNumberHashed: u.telephoneNumberHashed,
    emailAddress: u.emailAddress,
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
