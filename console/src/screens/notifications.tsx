// The notification centre: a bell with the unread count; opening a notification marks it read
// and jumps to its lead. Desktop alerts are asked for here, on a click (browsers require one).
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { api } from "../api/client";
import { shortTime } from "../format";
import { chime, type LiveState } from "../live";
import { navigate } from "../router";
import { timezoneOf, useApp } from "../state";
import { Icon } from "../ui/icons";

export function NotificationCentre({ live }: { live: LiveState }): JSX.Element {
  const app = useApp();
  const [open, setOpen] = useState(false);
  const [permission, setPermission] = useState(() => ("Notification" in window ? Notification.permission : "denied"));
  const openOne = async (id: string, leadId: string | null) => {
    await api.post("/me/notifications/{notification_id}/read", { path: { notification_id: id } }).catch(() => undefined);
    live.refresh();
    setOpen(false);
    if (leadId) navigate(`/leads/${leadId}`);
  };
  return (
    <div class="notifications">
      <button type="button" class="bell" aria-expanded={open} aria-controls="notification-list" onClick={() => setOpen(!open)}>
        <Icon name="bell" label="Notifications" />
        {live.unread ? <span class="badge" aria-label={`${live.unread} unread`}>{live.unread}</span> : null}
      </button>
      {open ? (
        <section id="notification-list" class="popover" aria-label="Notifications">
          <header class="row">
            <h2>Notifications</h2>
            {permission === "default" ? (
              <button type="button" class="link" onClick={() => { chime(); void Notification.requestPermission().then(setPermission); }}>
                Turn on desktop alerts
              </button>
            ) : null}
          </header>
          {live.notifications.length === 0 ? <p class="empty">Nothing yet.</p> : null}
          <ul>
            {live.notifications.map((n) => (
              <li key={n.notification_id} class={n.read ? "read" : "unread"}>
                <button type="button" onClick={() => void openOne(n.notification_id, n.lead_id)}>
                  <span>{n.text}</span>
                  <small class="muted">{shortTime(n.at, timezoneOf(app, n.account_id))}{n.read ? "" : " · new"}</small>
                </button>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </div>
  );
}
