// One lead: the conversation (customer left, staff right, everything else centred), the send box,
// and the lead sidebar. The lead's lock is taken while the page is open, renewed while it stays
// open, and released on leaving (also when the tab closes).
import type { JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, type Lead, type SavedReply, type TimelineEvent } from "../api/client";
import { dateTime, label, shortTime, zonedToIso } from "../format";
import { usePoll } from "../live";
import { href } from "../router";
import { releaseOnExit } from "../session";
import { personName, useApp } from "../state";
import { ErrorNote, Field, Loading, useAction } from "../ui/common";
import { Icon } from "../ui/icons";
import { LeadSidebar } from "./sidebar";

const TIMELINE_POLL_MS = 3000;
const LOCK_RENEW_MS = 120_000;
const SMART_FIELDS = ["{{lead.first_name}}", "{{lead.vehicle}}", "{{account.name}}", "{{account.address}}", "{{agent.name}}", "{{account.phone}}"];

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
              <div class="msg-body">{e.body}</div>
              {(e.attachments ?? []).map((a, i) => (a.url ? <a key={i} href={a.url} target="_blank" rel="noreferrer">attachment {i + 1}</a> : null))}
              <small class="muted">
                {side === "staff" ? `${e.automated ? "automated" : personName(app, e.by) || "staff"} · ` : ""}
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
      return `Details edited${byWhom}`;
    default:
      return `${label(e.type)}${byWhom}`;
  }
}

function Composer({ lead, onSent }: { lead: Lead; onSent: () => void }): JSX.Element {
  const app = useApp();
  const store = app.accounts.get(lead.account_id);
  const [mode, setMode] = useState<"message" | "note">("message");
  const [text, setText] = useState("");
  const [reply, setReply] = useState<SavedReply | null>(null);
  const [replies, setReplies] = useState<SavedReply[]>([]);
  const [sendAt, setSendAt] = useState("");
  const [picture, setPicture] = useState("");
  const [extras, setExtras] = useState(false);
  const [sent, setSent] = useState<string | null>(null);
  const action = useAction();
  const area = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    api.get("/accounts/{account_id}/saved-replies", { path: { account_id: lead.account_id } })
      .then((page) => setReplies(page.items), () => setReplies([]));
  }, [lead.account_id]);

  const insert = (token: string) => {
    const el = area.current;
    const at = el?.selectionStart ?? text.length;
    setText(text.slice(0, at) + token + text.slice(el?.selectionEnd ?? at));
    el?.focus();
  };
  const done = (what: string) => {
    setText("");
    setReply(null);
    setSendAt("");
    setPicture("");
    setSent(what);
    onSent();
  };
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      if (mode === "note") {
        await api.post("/leads/{lead_id}/notes", { path: { lead_id: lead.lead_id }, body: { text } });
        return done("Note added.");
      }
      const useReply = reply !== null && text === reply.body;
      const result = await api.post("/leads/{lead_id}/messages", {
        path: { lead_id: lead.lead_id },
        body: {
          ...(useReply ? { saved_reply_id: reply.saved_reply_id } : { body: text }),
          ...(sendAt && store ? { send_at: zonedToIso(sendAt, store.timezone) } : {}),
          ...(picture ? { media_url: picture } : {}),
        },
      });
      done(result.status === "scheduled" ? `Scheduled for ${dateTime(result.send_at, store?.timezone)}.` : "Message queued.");
    });
  };
  const sendKind = (kind: "directions" | "voucher" | "credit_app") =>
    void action.run(async () => {
      await api.post("/leads/{lead_id}/messages", { path: { lead_id: lead.lead_id }, body: { kind } });
      done(`${label(kind)} link sent.`);
    });
  const disabled = lead.opted_out && mode === "message";

  return (
    <form class="composer" onSubmit={submit} aria-label="Reply">
      <div class="tabs" role="tablist" aria-label="What to write">
        {(["message", "note"] as const).map((m) => (
          <button key={m} type="button" role="tab" aria-selected={mode === m} onClick={() => setMode(m)}>
            {m === "message" ? "Message" : "Internal note"}
          </button>
        ))}
      </div>
      {disabled ? <p class="warning">The customer opted out: messages cannot be sent.</p> : null}
      <Field label={mode === "message" ? "Message to the customer" : "Note for your team (@email mentions notify)"}>
        {(id) => (
          <textarea id={id} ref={area} rows={3} required value={text} disabled={disabled}
            onInput={(e) => setText(e.currentTarget.value)}
            onKeyDown={(e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) (e.currentTarget.form as HTMLFormElement | null)?.requestSubmit(); }} />
        )}
      </Field>
      {mode === "message" ? (
        <div class="composer-tools">
          <Field label="Saved reply">
            {(id) => (
              <select id={id} value={reply?.saved_reply_id ?? ""} onChange={(e) => {
                const chosen = replies.find((r) => r.saved_reply_id === e.currentTarget.value) ?? null;
                setReply(chosen);
                if (chosen) setText(chosen.body);
              }}>
                <option value="">Choose…</option>
                {replies.map((r) => <option key={r.saved_reply_id} value={r.saved_reply_id}>{r.title}</option>)}
              </select>
            )}
          </Field>
          <Field label="Smart field">
            {(id) => (
              <select id={id} value="" onChange={(e) => { if (e.currentTarget.value) insert(e.currentTarget.value); }}>
                <option value="">Insert…</option>
                {SMART_FIELDS.map((f) => <option key={f} value={f}>{f.slice(2, -2)}</option>)}
              </select>
            )}
          </Field>
          <div class="row wrap">
            <button type="button" disabled={disabled || !store?.directions_url} onClick={() => sendKind("directions")}>Directions</button>
            <button type="button" disabled={disabled || !store?.voucher_url} onClick={() => sendKind("voucher")}>Voucher</button>
            <button type="button" disabled={disabled || !store?.credit_app_url} onClick={() => sendKind("credit_app")}>Credit app</button>
            <button type="button" aria-expanded={extras} onClick={() => setExtras(!extras)}>Schedule / picture</button>
          </div>
          {extras ? (
            <div class="row wrap">
              <Field label={`Send at (${store?.timezone ?? "store time"})`}>
                {(id) => <input id={id} type="datetime-local" value={sendAt} onInput={(e) => setSendAt(e.currentTarget.value)} />}
              </Field>
              <Field label="Picture (image URL)">
                {(id) => <input id={id} type="url" placeholder="link to an image" value={picture} onInput={(e) => setPicture(e.currentTarget.value)} />}
              </Field>
            </div>
          ) : null}
        </div>
      ) : null}
      <ErrorNote error={action.error} />
      {sent && !action.error ? <p class="muted" role="status">{sent}</p> : null}
      <button class="primary" type="submit" disabled={action.busy || disabled || !text.trim()}>
        {mode === "note" ? "Add note" : sendAt ? "Schedule" : "Send"}
      </button>
    </form>
  );
}
