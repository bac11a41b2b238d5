// The status bubble: shows the lead's status; a click opens the statuses to move it to.
import type { JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, describeError } from "../api/client";
import { dateTime, dueIn, label, shortTime } from "../format";

export const STATUSES = ["new", "hot", "warm", "cold", "follow_up", "sold", "dead"] as const;
type Status = (typeof STATUSES)[number];

export function StatusBubble({ lead, onChanged }: { lead: { lead_id: string; status: string; name: string }; onChanged: () => void }): JSX.Element {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const menu = useRef<HTMLUListElement>(null);
  useEffect(() => {
    if (open) menu.current?.querySelector<HTMLButtonElement>("button")?.focus();
  }, [open]);
  const choose = async (status: Status) => {
    setOpen(false);
    try {
      await api.patch("/leads/{lead_id}", { path: { lead_id: lead.lead_id }, body: { status } });
      setError(null);
      onChanged();
    } catch (reason) {
      setError(describeError(reason));
    }
  };
  return (
    <span class="status-wrap" onKeyDown={(e) => e.key === "Escape" && setOpen(false)}>
      <button type="button" class={`bubble status-${lead.status}`} aria-haspopup="true" aria-expanded={open} onClick={() => setOpen(!open)}
        aria-label={`Status ${label(lead.status)} of ${lead.name || "lead"}: change`}>
        {label(lead.status)}
      </button>
      {open ? (
        <ul class="menu" ref={menu} aria-label="Change status">
          {STATUSES.map((s) => (
            <li key={s}>
              <button type="button" class={`bubble status-${s}`} aria-current={s === lead.status ? "true" : undefined} onClick={() => void choose(s)}>
                {label(s)}
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      {error ? <span class="error small" role="alert">{error}</span> : null}
    </span>
  );
}

/** The lead's running response deadline (response targets): "reply due in 4 min", "due soon", "missed". */
export function ResponseDue({ lead, zone }: { lead: { response_due_at: string | null; response_state: "on_time" | "due_soon" | "missed" | null }; zone?: string }): JSX.Element | null {
  if (!lead.response_state) return null;
  const at = lead.response_due_at;
  const text = lead.response_state === "missed"
    ? `response missed${at ? ` (due ${shortTime(at, zone)})` : ""}`
    : at ? `reply ${dueIn(at)}` : label(lead.response_state);
  return <span class={`due due-${lead.response_state}`} title={at ? `Response due ${dateTime(at, zone)}` : undefined}>{text}</span>;
}
