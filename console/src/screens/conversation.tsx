// One lead: the conversation (customer left, staff right, everything else centred), the send box,
// and the lead sidebar. The lead's lock is taken while the page is open, renewed while it stays
// open, and released on leaving (also when the tab closes).
import type { JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, type Lead, type TimelineEvent } from "../api/client";
import { dateTime, duration, label, shortTime } from "../format";
import { usePoll } from "../live";
import { href } from "../router";
import { releaseOnExit } from "../session";
import { personName, useApp } from "../state";
import { ErrorNote, Loading } from "../ui/common";
import { Icon } from "../ui/icons";
import { Composer } from "./composer";
import { LeadSidebar } from "./sidebar";

const TIMELINE_POLL_MS = 3000;
const LOCK_RENEW_MS = 120_000;

export function Conversation({ leadId, pulse }: { leadId: string; pulse: number }): JSX.Element {
  const app = useApp();
  const [lead, setLead] = useState<Lead | null>(null);
  const [events, setEvents] = useState<TimelineEvent[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [lockedBy, setLockedBy] = useState<string | null>(null);

  const load = async () => {
    try {
      const [fresh, timeline] = await Promise.all([
        api.get("/leads/{lead_id}", { path: { lead_id: leadId } }),
        api.get("/leads/{lead_id}/timeline", { path: { lead_id: leadId } }),
      ]);
      setLead(fresh);
      setEvents(timeline.items as TimelineEvent[]);
      setError(null);
    } catch (reason) {
      setError(reason);
    }
  };
  // Another lead: never show the previous one's conversation while (or if) the new one fails to load.
  useEffect(() => {
    setLead(null);
    setEvents(null);
    setError(null);
  }, [leadId]);
  usePoll(load, TIMELINE_POLL_MS, [leadId, pulse]);

  useEffect(() => {
    const path = `/leads/${encodeURIComponent(leadId)}/lock`;
    const take = () =>
      api.post("/leads/{lead_id}/lock", { path: { lead_id: leadId } }).then(
        () => setLockedBy(null),
        (reason: unknown) => {
          if (reason instanceof ApiError && reason.status === 409) setLockedBy(String(reason.extra.locked_by ?? "someone"));
        },
      );
    void take();
    const renew = window.setInterval(() => void take(), LOCK_RENEW_MS);
    const onExit = () => releaseOnExit(path);
    addEventListener("pagehide", onExit);
    return () => {
      clearInterval(renew);
      removeEventListener("pagehide", onExit);
      void api.delete("/leads/{lead_id}/lock", { path: { lead_id: leadId } }).catch(() => undefined);
    };
  }, [leadId]);

  if (error && !lead) {
    return (
      <section>
        <a href={href("/inbox")}>Back to the inbox</a>
        <ErrorNote error={error} />
      </section>
    );
  }
  if (!lead || !events) return <Loading what="the conversation" />;
  const store = app.accounts.get(lead.account_id);
  return (
    <div class="conversation">
      <section class="thread" aria-label={`Conversation with ${lead.name || "the lead"}`}>
        <header class="thread-head">
          <a href={href("/inbox")} class="back"><Icon name="back" label="Back to the inbox" /></a>
          <h1>{lead.name || "Unnamed lead"}</h1>
          <span class="muted">{store?.name}</span>
        </header>
        {lockedBy ? (
          <p class="warning" role="status">
            {personName(app, lockedBy)} has this lead open; what you send may cross with theirs.
          </p>
        ) : null}
        <Timeline events={events} zone={store?.timezone} />
        <Composer lead={lead} onSent={() => void load()} />
      </section>
      <LeadSidebar lead={lead} onChanged={() => void load()} />
    </div>
  );
}

function Timeline({ events, zone }: { events: TimelineEvent[]; zone: string | undefined }): JSX.Element {
  const app = useApp();
  const end = useRef<HTMLLIElement>(null);
  useEffect(() => end.current?.scrollIntoView({ block: "end" }), [events.length]);
  return (
    <ol class="timeline" aria-live="polite" aria-relevant="additions">
      {events.map((e) => {
        if (e.type === "message") {
          const side = e.direction === "inbound" ? "customer" : "staff";
          return (
            <li key={e.event_id} class={`bubble-msg ${side}`}>
              {e.subject ? <div class="msg-subject">{e.subject}</div> : null}
              {/* Text only, never markup: an email's HTML part is not rendered here, its text part is. */}
              <div class="msg-body">{e.body}</div>
              {(e.attachments ?? []).map((a, i) => (a.url ? (
                <a key={i} class="attachment" href={a.url} target="_blank" rel="noreferrer noopener">
                  {a.filename ?? `attachment ${i + 1}`}{a.content_type ? ` (${a.content_type})` : ""}
                </a>
              ) : null))}
              <small class="muted">
                {side === "staff" ? `${e.sent_as ? `${personName(app, e.by) || "staff"} as ${e.sent_as}` : e.automated ? `automated${e.cadence_id ? " (cadence)" : ""}` : personName(app, e.by) || "staff"} · ` : ""}
                {e.channel} · {shortTime(e.at, zone)} · <span class={`delivery ${e.status ?? ""}`}>{e.status === "scheduled" && e.send_at ? `scheduled for ${dateTime(e.send_at, zone)}` : label(e.status ?? "")}</span>
                {e.error ? ` · ${e.error}` : ""}
              </small>
            </li>
          );
        }
        return (
          <li key={e.event_id} class={`event ev-${e.type}`}>
            <span>{describeEvent(e, (id) => personName(app, id), zone)}</span>
            <small class="muted"> · {shortTime(e.at, zone)}</small>
          </li>
        );
      })}
      <li ref={end} class="end" aria-hidden="true" />
    </ol>
  );
}

const ACTIVITY_TITLES: Record<string, string> = { call: "A phone call", email: "An email", visit: "A visit", task: "A task" };

function describeEvent(e: TimelineEvent, who: (id: string | null | undefined) => string, zone: string | undefined): string {
  const by = e.by ? who(e.by) : "";
  const text = (value: unknown) => (typeof value === "string" ? value : "");
  const byWhom = by ? ` by ${by}` : "";
  switch (e.type) {
    case "created":
      return `Lead received${e.source ? ` from ${text(e.source)}` : ""}`;
    case "note":
      return `Note${byWhom}: ${text(e.text)}`;
    case "appointment":
      return `Appointment ${label(text(e.action) || "booked")}${e.appointment_at ? ` for ${dateTime(text(e.appointment_at), zone)}` : ""}${e.note ? `: ${text(e.note)}` : ""}`;
    case "offer": {
      const agent = who(text(e.agent)) || "an agent";
      const action = text(e.action);
      if (action === "made") return `Offered to ${agent}`;
      if (action === "declined") return `${agent} declined${e.reason ? `: ${text(e.reason)}` : ""}`;
      if (action === "timed_out") return `The offer to ${agent} timed out`;
      return `${agent} ${label(action || "answered")} the offer`;
    }
    case "routing":
      return text(e.action) === "delinquent" ? "Nobody took the lead: delinquent" : "Waiting for the store to open";
    case "assignment":
      return `Assigned to ${who(text(e.user_id)) || "someone"}${byWhom}`;
    case "status":
      return `Status ${e.from ? `${label(text(e.from))} → ` : ""}${label(text(e.to) || "changed")}${byWhom}`;
    case "label":
      return e.added ? `Label “${text(e.added)}” added${byWhom}` : `Label “${text(e.removed)}” removed${byWhom}`;
    case "crm":
      return `Sent to the CRM${e.to ? ` (${text(e.to)})` : ""}${byWhom}`;
    case "escalation":
      return `Escalated to ${text(e.to) || "the store"}${byWhom}${e.note ? `: ${text(e.note)}` : ""}`;
    case "coalesced":
      return "The customer asked again (a repeat lead joined this one)";
    case "opt_out":
      return "The customer opted out of messages";
    case "opt_in":
      return "The customer opted back in";
    case "responded":
      return `Marked responded${byWhom}`;
    case "done":
      return `${e.done ? "Marked done" : "Reopened"}${byWhom}`;
    case "feedback":
      return `Outcome recorded${byWhom}${e.contact_status ? `: ${label(text(e.contact_status))}` : ""}`;
    case "edit":
      return e.field === "stop_messaging" ? `Messaging ${e.value ? "stopped" : "resumed"}${byWhom}` : `Details edited${byWhom}`;
    case "call": {
      const length = typeof e.duration_s === "number" ? `, ${duration(e.duration_s)}` : "";
      return `Call${byWhom} to ${text(e.to)}: ${label(text(e.status) || "queued")}${length}${e.error ? ` (${text(e.error)})` : ""}`;
    }
    case "activity":
      return `${ACTIVITY_TITLES[text(e.kind)] ?? "Activity"} logged${byWhom}: ${text(e.note)}`;
    case "cadence":
      return `Cadence “${text(e.name)}” ${label(text(e.action))}${e.reason ? `: ${label(text(e.reason))}` : ""}${byWhom}`;
    case "target":
      return `${text(e.deadline_kind) === "first_response" ? "First response" : "Reply"} ${text(e.action) === "missed" ? "deadline missed" : "due soon"} (due ${dateTime(text(e.due_at), zone)})${e.owner ? ` · owner ${who(text(e.owner))}` : ""}`;
    case "reassigned":
      return `Taken from ${who(text(e.from)) || "its owner"}${e.reason ? ` (${label(text(e.reason))})` : ""}`;
    default:
      return `${label(e.type)}${byWhom}`;
  }
}
