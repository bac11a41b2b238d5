// The notification centre: a bell with the unread count; opening a notification marks it read
// and jumps to its lead. Each shows its kind, title and the lead's details (the alert's body).
// Desktop alerts are asked for here, on a click (browsers require one). A Popover: Escape closes.
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { api } from "../api/client";
import { label, shortTime } from "../format";
import { chime, type LiveState } from "../live";
import { navigate } from "../router";
import { timezoneOf, useApp } from "../state";
import { Icon } from "../ui/icons";
import { Popover } from "../ui/popover";

const KINDS: Record<string, string> = {
  offer: "Offer", assigned: "Assigned to you", customer_replied: "Customer replied", target_warning: "Response due soon",
  target_missed: "Response missed", mention: "Mention", reoffered: "Lead taken back", delinquent: "Nobody took a lead",
};

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
  const toggle = (
    <>
      <Icon name="bell" label="Notifications" />
      {live.unread ? <span class="badge" aria-label={`${live.unread} unread`}>{live.unread}</span> : null}
    </>
  );
  return (
    <Popover class="notifications" id="notification-list" label="Notifications" open={open} setOpen={setOpen} toggleClass="bell" toggle={toggle}>
      {() => (
        <>
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
                <button type="button" class={`kind-${n.kind}`} onClick={() => void openOne(n.notification_id, n.lead_id)}>
                  <span class="note-kind">{KINDS[n.kind] ?? label(n.kind)}</span>
                  <strong>{n.title || n.text}</strong>
                  {n.body ? <span class="note-body">{n.body}</span> : null}
                  <small class="muted">{shortTime(n.at, timezoneOf(app, n.account_id))}{n.read ? "" : " · new"}{n.lead_id ? " · open the lead" : ""}</small>
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </Popover>
  );
}
