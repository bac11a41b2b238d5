// The lead sidebar's dialogs: appointment, escalation, outcome, assignment, a logged activity
// (a call made from another phone, an email, a visit, a task) and a cadence to enrol the lead in.
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { api, type Lead } from "../api/client";
import { label, zonedToIso } from "../format";
import { useApp } from "../state";
import { Dialog, ErrorNote, Field, fieldError, Loading, useAsync } from "../ui/common";

export type ActionName = "appointment" | "escalate" | "feedback" | "assign" | "activity" | "cadence" | null;
const ACTIVITIES = [["call", "A phone call"], ["email", "An email"], ["visit", "A visit to the store"], ["task", "A task"]] as const;

export function ActionDialogs({ lead, open, close, act, busy, error }: {
  lead: Lead; open: ActionName; close: () => void; busy: boolean; error: unknown;
  act: (what: string, call: () => Promise<unknown>) => void;
}): JSX.Element {
  const app = useApp();
  const store = app.accounts.get(lead.account_id);
  const [at, setAt] = useState("");
  const [note, setNote] = useState("");
  const [status, setStatus] = useState<"contacted" | "not_contacted" | "in_progress" | "closed_won" | "closed_lost">("contacted");
  const [assignee, setAssignee] = useState("");
  const [activity, setActivity] = useState<(typeof ACTIVITIES)[number][0]>("call");
  const path = { lead_id: lead.lead_id };
  const people = [...app.users.values()].filter((u) => u.account_ids.includes(lead.account_id) || u.role === "group_admin");
  const footer = (verb: string) => (
    <>
      <ErrorNote error={error} />
      <div class="row">
        <button class="primary" type="submit" disabled={busy}>{verb}</button>
        <button type="button" onClick={close}>Cancel</button>
      </div>
    </>
  );
  return (
    <>
      <Dialog title="Set an appointment" open={open === "appointment"} onClose={close}>
        <form onSubmit={(e) => { e.preventDefault(); act("Appointment booked.", () => api.post("/leads/{lead_id}/appointments", { path, body: { at: zonedToIso(at, store?.timezone ?? "UTC"), note: note || null } })); }}>
          <Field label={`When (${store?.timezone ?? "store time"})`}>{(id) => <input id={id} type="datetime-local" required value={at} onInput={(e) => setAt(e.currentTarget.value)} />}</Field>
          <Field label="Note">{(id) => <input id={id} value={note} onInput={(e) => setNote(e.currentTarget.value)} />}</Field>
          {footer("Book")}
        </form>
      </Dialog>
      <Dialog title="Escalate to the store" open={open === "escalate"} onClose={close}>
        <form onSubmit={(e) => { e.preventDefault(); act("Escalated.", () => api.post("/leads/{lead_id}/escalate", { path, body: { note } })); }}>
          <Field label="What needs attention" hint={`Goes to ${store?.escalation_email ?? ""} with the whole conversation.`}>
            {(id) => <textarea id={id} required rows={3} value={note} onInput={(e) => setNote(e.currentTarget.value)} />}
          </Field>
          {footer("Escalate")}
        </form>
      </Dialog>
      <Dialog title="What came of this lead" open={open === "feedback"} onClose={close}>
        <form onSubmit={(e) => { e.preventDefault(); act("Outcome saved.", () => api.post("/leads/{lead_id}/feedback", { path, body: { contact_status: status, comment: note || null } })); }}>
          <Field label="Contact status">
            {(id) => (
              <select id={id} value={status} onChange={(e) => setStatus(e.currentTarget.value as typeof status)}>
                {(["contacted", "not_contacted", "in_progress", "closed_won", "closed_lost"] as const).map((s) => <option key={s} value={s}>{label(s)}</option>)}
              </select>
            )}
          </Field>
          <Field label="Comment">{(id) => <textarea id={id} rows={3} value={note} onInput={(e) => setNote(e.currentTarget.value)} />}</Field>
          {footer("Save outcome")}
        </form>
      </Dialog>
      <Dialog title="Assign the lead" open={open === "assign"} onClose={close}>
        <form onSubmit={(e) => { e.preventDefault(); act("Assigned.", () => api.post("/leads/{lead_id}/assign", { path, body: { user_id: assignee } })); }}>
          <Field label="To">
            {(id) => (
              <select id={id} required value={assignee} onChange={(e) => setAssignee(e.currentTarget.value)}>
                <option value="">Choose a person…</option>
                {people.map((u) => <option key={u.user_id} value={u.user_id}>{u.name} ({label(u.role)})</option>)}
              </select>
            )}
          </Field>
          {footer("Assign")}
        </form>
      </Dialog>
      <Dialog title="Log an activity" open={open === "activity"} onClose={close}>
        <form onSubmit={(e) => { e.preventDefault(); act("Activity logged.", () => api.post("/leads/{lead_id}/activities", { path, body: { kind: activity, note, at: at ? zonedToIso(at, store?.timezone ?? "UTC") : null } })); }}>
          <Field label="What you did" error={fieldError(error, "kind")}>
            {(id) => (
              <select id={id} value={activity} onChange={(e) => setActivity(e.currentTarget.value as typeof activity)}>
                {ACTIVITIES.map(([kind, title]) => <option key={kind} value={kind}>{title}</option>)}
              </select>
            )}
          </Field>
          <Field label="Note" error={fieldError(error, "note")}>{(id) => <textarea id={id} required rows={3} value={note} onInput={(e) => setNote(e.currentTarget.value)} />}</Field>
          <Field label={`When (${store?.timezone ?? "store time"}; empty: now)`} error={fieldError(error, "at")}>{(id) => <input id={id} type="datetime-local" value={at} onInput={(e) => setAt(e.currentTarget.value)} />}</Field>
          {footer("Log activity")}
        </form>
      </Dialog>
      <Dialog title="Assign a cadence" open={open === "cadence"} onClose={close}>
        <CadenceChoice lead={lead} act={act} footer={footer} />
      </Dialog>
    </>
  );
}

/** The store's cadences, read when the dialog opens; enrolling replaces an active enrolment. */
function CadenceChoice({ lead, act, footer }: { lead: Lead; act: (what: string, call: () => Promise<unknown>) => void; footer: (verb: string) => JSX.Element }): JSX.Element {
  const cadences = useAsync(async () => (await api.get("/accounts/{account_id}/cadences", { path: { account_id: lead.account_id } })).items, [lead.account_id]);
  const [chosen, setChosen] = useState(lead.cadence?.state === "active" ? "" : lead.cadence?.cadence_id ?? "");
  if (!cadences.data) return cadences.error ? <ErrorNote error={cadences.error} /> : <Loading what="cadences" />;
  return (
    <form onSubmit={(e) => { e.preventDefault(); act("Cadence assigned.", () => api.post("/leads/{lead_id}/cadence", { path: { lead_id: lead.lead_id }, body: { cadence_id: chosen } })); }}>
      <Field label="Cadence" hint={lead.cadence?.state === "active" ? `Replaces ${lead.cadence.name}.` : undefined}>
        {(id) => (
          <select id={id} required value={chosen} onChange={(e) => setChosen(e.currentTarget.value)}>
            <option value="">Choose a cadence…</option>
            {cadences.data!.map((c) => <option key={c.cadence_id} value={c.cadence_id}>{c.name} ({c.steps.length} steps, from {c.assistant_name})</option>)}
          </select>
        )}
      </Field>
      {footer("Assign cadence")}
    </form>
  );
}
