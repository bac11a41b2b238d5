// The send box: a message (SMS, Messenger or email with its subject; saved replies, smart fields,
// directions / voucher / credit-app links, a scheduled time, pictures uploaded to the media bucket,
// and "reply as the assistant" when the lead has a cadence) or an internal note.
import type { JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, type Lead, type SavedReply } from "../api/client";
import { dateTime, label, zonedToIso } from "../format";
import { useApp } from "../state";
import { ErrorNote, Field, fieldError, useAction } from "../ui/common";

const SMART_FIELDS = ["{{lead.first_name}}", "{{lead.vehicle}}", "{{account.name}}", "{{account.address}}", "{{agent.name}}", "{{account.phone}}"];
const CHANNELS = ["sms", "messenger", "email"] as const;
type Channel = (typeof CHANNELS)[number];
const PICTURE_TYPES = "image/jpeg,image/png,image/gif,image/webp,application/pdf";

/** The file goes straight to the media bucket with the presigned POST the API made for it. */
async function upload(leadId: string, file: File): Promise<string> {
  const made = await api.post("/leads/{lead_id}/attachments", {
    path: { lead_id: leadId },
    body: { filename: file.name, content_type: file.type || "application/octet-stream", bytes: file.size },
  });
  const form = new FormData();
  for (const [name, value] of Object.entries(made.upload_fields)) form.append(name, value);
  form.append("file", file);
  let stored: Response;
  try {
    stored = await fetch(made.upload_url, { method: "POST", body: form });
  } catch {
    throw new ApiError(0, "upload", `${file.name} could not be uploaded: the file store cannot be reached.`);
  }
  if (!stored.ok) throw new ApiError(stored.status, "upload", `${file.name} was refused by the file store (${stored.status}).`);
  return made.attachment_id;
}

export function Composer({ lead, onSent }: { lead: Lead; onSent: () => void }): JSX.Element {
  const app = useApp();
  const store = app.accounts.get(lead.account_id);
  const [mode, setMode] = useState<"message" | "note">("message");
  const [text, setText] = useState("");
  const [reply, setReply] = useState<SavedReply | null>(null);
  const [replies, setReplies] = useState<SavedReply[]>([]);
  const [channel, setChannel] = useState<Channel | "">("");
  const [subject, setSubject] = useState("");
  const [asAssistant, setAsAssistant] = useState(false);
  const [sendAt, setSendAt] = useState("");
  const [pictures, setPictures] = useState<File[]>([]);
  const [extras, setExtras] = useState(false);
  const [sent, setSent] = useState<string | null>(null);
  const action = useAction();
  const area = useRef<HTMLTextAreaElement>(null);
  const files = useRef<HTMLInputElement>(null);
  // The API's default is the lead's own channel (else SMS, Messenger, email): shown as the first choice.
  const leadChannel = (CHANNELS as readonly string[]).includes(lead.channel) ? lead.channel : lead.phone ? "sms" : lead.email ? "email" : "sms";
  const using = channel || leadChannel;

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
    setSubject("");
    setPictures([]);
    if (files.current) files.current.value = "";
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
      const attachmentIds = await Promise.all(pictures.map((file) => upload(lead.lead_id, file)));
      const useReply = reply !== null && text === reply.body;
      const result = await api.post("/leads/{lead_id}/messages", {
        path: { lead_id: lead.lead_id },
        body: {
          ...(useReply ? { saved_reply_id: reply.saved_reply_id } : { body: text }),
          ...(channel ? { channel } : {}),
          ...(using === "email" && subject.trim() ? { subject: subject.trim() } : {}),
          ...(asAssistant ? { as_assistant: true } : {}),
          ...(sendAt && store ? { send_at: zonedToIso(sendAt, store.timezone) } : {}),
          ...(attachmentIds.length ? { attachment_ids: attachmentIds } : {}),
        },
      });
      done(result.status === "scheduled" ? `Scheduled for ${dateTime(result.send_at, store?.timezone)}.` : "Message queued.");
    });
  };
  const sendKind = (kind: "directions" | "voucher" | "credit_app") =>
    void action.run(async () => {
      await api.post("/leads/{lead_id}/messages", { path: { lead_id: lead.lead_id }, body: { kind, ...(channel ? { channel } : {}) } });
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
      {mode === "message" ? (
        <div class="row wrap">
          <Field label="Send by" error={fieldError(action.error, "channel")}>
            {(id) => (
              <select id={id} value={using} disabled={disabled} onChange={(e) => setChannel(e.currentTarget.value === leadChannel ? "" : e.currentTarget.value as Channel)}>
                {CHANNELS.map((c) => <option key={c} value={c}>{c === "sms" ? "SMS" : label(c)}{c === leadChannel ? " (the lead's)" : ""}</option>)}
              </select>
            )}
          </Field>
          {using === "email" ? (
            <Field label="Subject" hint="empty: the thread's or the store's" error={fieldError(action.error, "subject")}>
              {(id) => <input id={id} value={subject} disabled={disabled} onInput={(e) => setSubject(e.currentTarget.value)} />}
            </Field>
          ) : null}
        </div>
      ) : null}
      <Field label={mode === "message" ? "Message to the customer" : "Note for your team (@email mentions notify)"} error={fieldError(action.error, "body")}>
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
          {lead.cadence ? (
            <label class="check">
              <input type="checkbox" checked={asAssistant} onChange={(e) => setAsAssistant(e.currentTarget.checked)} />
              Reply as {lead.cadence.assistant_name}
            </label>
          ) : null}
          <div class="row wrap">
            <button type="button" disabled={disabled || !store?.directions_url} onClick={() => sendKind("directions")}>Directions</button>
            <button type="button" disabled={disabled || !store?.voucher_url} onClick={() => sendKind("voucher")}>Voucher</button>
            <button type="button" disabled={disabled || !store?.credit_app_url} onClick={() => sendKind("credit_app")}>Credit app</button>
            <button type="button" aria-expanded={extras} onClick={() => setExtras(!extras)}>Schedule / picture</button>
          </div>
          {extras ? (
            <div class="row wrap">
              <Field label={`Send at (${store?.timezone ?? "store time"})`} error={fieldError(action.error, "send_at")}>
                {(id) => <input id={id} type="datetime-local" value={sendAt} onInput={(e) => setSendAt(e.currentTarget.value)} />}
              </Field>
              <Field label="Pictures (JPEG, PNG, GIF, WebP or PDF; up to 5 MB each)" error={fieldError(action.error, "attachment_ids")}>
                {(id) => <input id={id} ref={files} type="file" multiple accept={PICTURE_TYPES} onChange={(e) => setPictures([...(e.currentTarget.files ?? [])])} />}
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
