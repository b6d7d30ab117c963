// The FCM v1 message of a new-message push (§7.2): every data value is a JSON string.
import type { RoomRow } from "../../db/schema.js";
import type { FcmMessage } from "../../providers/push.js";
import type { MessageView } from "../messages/views.js";

/** What differs between the recipients of one message. */
export interface PushRecipient {
  unreadCount: number;
  muted: boolean;
  /** Private rooms show the other user's avatar, other rooms their own. */
  avatarFileId: number;
}

/** The pushes of one message, one recipient at a time; the shared parts are serialized once. */
export function pushMessages(message: MessageView, room: RoomRow, authorName: string): (recipient: PushRecipient) => Omit<FcmMessage, "token"> {
  const data = JSON.stringify(message);
  const messageAttributes = JSON.stringify(room.type === "private" ? { fromUserName: authorName } : { fromUserName: authorName, groupName: room.name });
  return ({ unreadCount, muted, avatarFileId }) => ({
    data: {
      message: data,
      messageAttributes,
      roomAttributes: JSON.stringify({ unreadCount, muted, avatarFileId }),
    },
    android: { priority: "HIGH" },
    webpush: { headers: { Topic: String(room.id) } },
    apns: {
      payload: {
        // A muted room's push only wakes the app (to sync); others show an alert.
        aps: muted ? { "content-available": 1 } : { "mutable-content": 1, alert: { title: "New message" }, "thread-id": String(room.id) },
      },
    },
  });
}
