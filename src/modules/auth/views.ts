// Sign-up responses (§3.1). The caller of POST /auth has not proven the number yet, so the
// account's e-mail address is not shown (§2.5 lets a deployment hide other users' e-mail);
// /auth/verify returns the full user.
import type { DeviceRow, UserRow } from "../../db/schema.js";
import { deviceView, type DeviceView } from "../devices/views.js";
import { userView, type UserView } from "../users/views.js";

export interface SignUpView {
  isNewUser: boolean;
  user: UserView;
  device: DeviceView;
  browserDeviceId?: string;
}

/** POST /auth never hands out a token (§3.1): `device.token` is always null. */
export function signUpView(isNewUser: boolean, user: UserRow, device: DeviceRow): SignUpView {
  return {
    isNewUser,
    user: { ...userView(user), emailAddress: null },
    device: deviceView(device, null),
    ...(device.type === "browser" ? { browserDeviceId: device.deviceId } : {}),
  };
}
