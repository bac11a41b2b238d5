// The lead sidebar: editable contact fields and labels, the actions the API offers for a lead,
// vehicle and financial details, and the store's details (campaign notes in red).
import type { ComponentChildren, JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, type Lead } from "../api/client";
import { dateTime, label } from "../format";
import { isManager, personName, useApp } from "../state";
import { ErrorNote, Field, useAction } from "../ui/common";
import { AssistantPanel } from "./assistant_panel";
import { ActionDialogs, type ActionName } from "./lead_dialogs";
import { ResponseDue } from "./status";


export function LeadSidebar({ lead, onChanged }: { lead: Lead; onChanged: () => void }): JSX.Element {
  const app = useApp();
  const store = app.accounts.get(lead.account_id);
  const [open, setOpen] = useState<ActionName>(null);
  const action = useAction();
  const [notice, setNotice] = useState<string | null>(null);
  const path = { lead_id: lead.lead_id };

  const act = (what: string, call: () => Promise<unknown>) =>
    void action.run(async () => {
      await call();
      setNotice(what);
      setOpen(null);
      onChanged();
    });

  // Click-to-call rings the agent's own phone first, then bridges the customer (the timeline's call event follows it).
  const call = () =>
    void action.run(async () => {
      const placed = await api.post("/leads/{lead_id}/call", { path });
      setNotice(placed.status === "failed" ? "The call could not be placed (see the timeline)." : "Calling: your phone rings first, then the customer's.");
      onChanged();
    });

  return (
    <aside class="sidebar" aria-label="Lead details">
      <Details lead={lead} onChanged={onChanged} />
      <Labels lead={lead} onChanged={onChanged} />
      <section aria-labelledby="actions-h">
        <h2 id="actions-h">Actions</h2>
        <div class="actions">
          <button type="button" onClick={() => act("Marked responded.", () => api.post("/leads/{lead_id}/responded", { path }))} disabled={!lead.awaiting_since}>Mark responded</button>
          <button type="button" disabled={!lead.phone} onClick={() => call()}>Call</button>
          <button type="button" onClick={() => setOpen("activity")}>Log activity</button>
          <button type="button" onClick={() => setOpen("appointment")}>Set appointment</button>
          <button type="button" onClick={() => setOpen("escalate")} disabled={!store?.escalation_email}>Escalate</button>
          <button type="button" onClick={() => act("Sent to the CRM.", () => api.post("/leads/{lead_id}/crm", { path }))} disabled={!store?.crm_email}>Send to CRM</button>
          <button type="button" onClick={() => act("Moved to follow-up.", () => api.post("/leads/{lead_id}/skip-to-follow-up", { path }))}>Skip to follow-up</button>
          {isManager(app.me) ? (
            <>
              <button type="button" onClick={() => act("Messaging stopped: nothing scheduled or automated goes out.", () => api.post("/leads/{lead_id}/stop-messaging", { path }))}>Stop messaging</button>
              <button type="button" onClick={() => act("Messaging resumed.", () => api.post("/leads/{lead_id}/resume-messaging", { path }))}>Resume messaging</button>
            </>
          ) : null}
          <button type="button" onClick={() => setOpen("feedback")}>Outcome</button>
          {lead.routing_state === "delinquent" ? (
            <button type="button" onClick={() => act("The lead is yours.", () => api.post("/leads/{lead_id}/requeue", { path }))}>Claim lead</button>
          ) : null}
          {isManager(app.me) ? <button type="button" onClick={() => setOpen("assign")}>Assign</button> : null}
          <button type="button" onClick={() => act(lead.done ? "Reopened." : "Marked done.", () => api.patch("/leads/{lead_id}", { path, body: { done: !lead.done } }))}>
            {lead.done ? "Reopen" : "Mark done"}
          </button>
          <button type="button" class="danger" disabled={lead.opted_out}
            onClick={() => confirm(`Opt ${lead.name || "this customer"} out of all messages?`) && act("Opted out.", () => api.post("/leads/{lead_id}/opt-out", { path }))}>
            Opt out
          </button>
        </div>
        <ErrorNote error={action.error} />
        {notice && !action.error ? <p class="muted" role="status">{notice}</p> : null}
      </section>
      <AssistantPanel lead={lead} onAssign={() => setOpen("cadence")} act={act} />
      <ActionDialogs lead={lead} open={open} close={() => setOpen(null)} act={act} busy={action.busy} error={action.error} />
      <Vehicle lead={lead} />
      {store ? (
        <section aria-labelledby="store-h">
          <h2 id="store-h">Store</h2>
          <p><strong>{store.name}</strong></p>
          {store.address ? <p>{store.address}</p> : null}
          {store.sms_number ? <p>{store.sms_number}</p> : null}
          <p class="muted">Times in {store.timezone}</p>
          {store.campaign_notes ? <p class="campaign-notes">{store.campaign_notes}</p> : null}
        </section>
      ) : null}
      <section aria-labelledby="facts-h">
        <h2 id="facts-h">Lead</h2>
        <dl class="facts">
          <Fact name="Source">{lead.source}{lead.source_group ? ` (${lead.source_group})` : ""}</Fact>
          <Fact name="Campaign">{lead.campaign}</Fact>
          <Fact name="Channel">{lead.channel}</Fact>
          <Fact name="Owner">{lead.assigned_to ? personName(app, lead.assigned_to) : "nobody yet"}</Fact>
          <Fact name="Routing">{label(lead.routing_state)}</Fact>
          <Fact name="Received">{dateTime(lead.received_at, store?.timezone)}</Fact>
          <Fact name="Response">{lead.response_state ? <ResponseDue lead={lead} zone={store?.timezone} /> : null}</Fact>
          <Fact name="Waiting since">{lead.awaiting_since ? dateTime(lead.awaiting_since, store?.timezone) : null}</Fact>
          <Fact name="Appointments">{lead.open_appointments ? String(lead.open_appointments) : null}</Fact>
        </dl>
      </section>
    </aside>
  );
}

function Fact({ name, children }: { name: string; children: ComponentChildren }): JSX.Element | null {
  if (children === null || children === undefined || children === "") return null;
  return (
    <>
      <dt>{name}</dt>
      <dd>{children}</dd>
    </>
  );
}

function Details({ lead, onChanged }: { lead: Lead; onChanged: () => void }): JSX.Element {
  const fields = ["first_name", "last_name", "phone", "email", "language"] as const;
  const initial = () => Object.fromEntries(fields.map((f) => [f, lead[f] ?? ""])) as Record<(typeof fields)[number], string>;
  const [values, setValues] = useState(initial);
  const action = useAction();
  const [saved, setSaved] = useState(false);
  useEffect(() => setValues(initial()), [lead.lead_id]);
  const changed = fields.filter((f) => (lead[f] ?? "") !== values[f]);
  const save = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const body = Object.fromEntries(changed.map((f) => [f, values[f].trim() || null]));
      await api.patch("/leads/{lead_id}", { path: { lead_id: lead.lead_id }, body });
      setSaved(true);
      onChanged();
    });
  };
  const titles: Record<(typeof fields)[number], string> = { first_name: "First name", last_name: "Last name", phone: "Phone", email: "Email", language: "Language" };
  return (
    <form class="details" onSubmit={save} aria-label="Contact details">
      <h2>Contact</h2>
      {fields.map((f) => (
        <Field key={f} label={titles[f]}>
          {(id) => <input id={id} type={f === "email" ? "email" : f === "phone" ? "tel" : "text"} value={values[f]} onInput={(e) => { setSaved(false); setValues({ ...values, [f]: e.currentTarget.value }); }} />}
        </Field>
      ))}
      <ErrorNote error={action.error} />
      {saved && !changed.length ? <p class="muted" role="status">Saved.</p> : null}
      <button type="submit" disabled={!changed.length || action.busy}>Save contact</button>
    </form>
  );
}

function Labels({ lead, onChanged }: { lead: Lead; onChanged: () => void }): JSX.Element {
  const [text, setText] = useState("");
  const action = useAction();
  const add = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      await api.post("/leads/{lead_id}/labels", { path: { lead_id: lead.lead_id }, body: { label: text.trim() } });
      setText("");
      onChanged();
    });
  };
  const remove = (name: string) =>
    void action.run(async () => {
      await api.delete("/leads/{lead_id}/labels/{label}", { path: { lead_id: lead.lead_id, label: name } });
      onChanged();
    });
  return (
    <section aria-labelledby="labels-h">
      <h2 id="labels-h">Labels</h2>
      <ul class="chips">
        {(lead.labels ?? []).map((name) => (
          <li key={name} class="chip">
            {name}
            <button type="button" class="link" aria-label={`Remove label ${name}`} onClick={() => remove(name)}>×</button>
          </li>
        ))}
      </ul>
      <form class="row" onSubmit={add}>
        <Field label="New label">
          {(id) => <input id={id} value={text} required onInput={(e) => setText(e.currentTarget.value)} />}
        </Field>
        <button type="submit" disabled={action.busy || !text.trim()}>Add</button>
      </form>
      <ErrorNote error={action.error} />
    </section>
  );
}

function Vehicle({ lead }: { lead: Lead }): JSX.Element | null {
  const v = lead.vehicle;
  const financial = Object.entries(lead.financial ?? {}).filter(([, value]) => value !== null && value !== "");
  if (!v && !financial.length) return null;
  return (
    <section aria-labelledby="vehicle-h">
      <h2 id="vehicle-h">Vehicle and financial</h2>
      <dl class="facts">
        {v ? <Fact name="Vehicle">{[v.status, v.year, v.make, v.model, v.trim].filter(Boolean).join(" ")}</Fact> : null}
        {v?.vin ? <Fact name="VIN">{v.vin}</Fact> : null}
        {v?.stock ? <Fact name="Stock">{v.stock}</Fact> : null}
        {v?.interest ? <Fact name="Interest">{v.interest}</Fact> : null}
        {financial.map(([key, value]) => <Fact key={key} name={label(key)}>{String(value)}</Fact>)}
      </dl>
    </section>
  );
}
