// Cadences of a store ("the assistant"): timed automated messages from the first touch to the
// follow-up, until a person should take over. Add, change (enrolled leads go on from the step they
// are at) and delete (each enrolment stops at its next step). Managers and up change them.
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { api, type Account, type Schemas } from "../api/client";
import { duration, label } from "../format";
import { type Route } from "../router";
import { Empty, ErrorNote, Field, fieldError, useAction } from "../ui/common";
import { PerStore } from "./stores";

type Cadence = Schemas["CadenceResponse"];
type Step = Schemas["CadenceStepRequest"];
type Match = Schemas["RuleMatchRequest"];
const CHANNELS = ["auto", "sms", "messenger", "email"] as const;
const MATCH_CHANNELS = ["", "sms", "messenger", "web", "email", "phone"] as const;
const FIRST_STEP: Step = { after_seconds: 0, body: "Hi {{lead.first_name}}, this is {{assistant.name}} at {{account.name}}. How can I help?", channel: "auto", phase: "first_touch", subject: null };

export function Cadences({ route }: { route: Route }): JSX.Element {
  const [adding, setAdding] = useState(false);
  const load = async (store: Account) => (await api.get("/accounts/{account_id}/cadences", { path: { account_id: store.account_id } })).items;
  return (
    <PerStore route={route} base="/settings/cadences" what="cadences" load={load}>
      {(store, cadences, reload) => (
        <>
          {cadences.length === 0 ? <Empty>No cadences: new leads wait for a person.</Empty> : null}
          <ul class="cards">
            {cadences.map((c) => <li key={`${c.cadence_id}${c.version}`} class="card"><CadenceForm accountId={store.account_id} cadence={c} onDone={reload} /></li>)}
          </ul>
          {adding ? (
            <div class="card">
              <h2>New cadence</h2>
              <CadenceForm accountId={store.account_id} onDone={() => { setAdding(false); reload(); }} />
            </div>
          ) : <button type="button" class="primary" onClick={() => setAdding(true)}>Add a cadence</button>}
        </>
      )}
    </PerStore>
  );
}

function CadenceForm({ accountId, cadence, onDone }: { accountId: string; cadence?: Cadence; onDone: () => void }): JSX.Element {
  const [name, setName] = useState(cadence?.name ?? "");
  const [assistant, setAssistant] = useState(cadence?.assistant_name ?? "");
  const [enroll, setEnroll] = useState<"new_lead" | "manual">(cadence?.enroll === "new_lead" ? "new_lead" : "manual");
  const [match, setMatch] = useState<Match>({ source: cadence?.match.source ?? null, source_group: cadence?.match.source_group ?? null, channel: (cadence?.match.channel ?? null) as Match["channel"] });
  const [steps, setSteps] = useState<Step[]>(() => cadence ? cadence.steps.map((s) => ({ ...s, channel: s.channel as Step["channel"], phase: s.phase as Step["phase"] })) : [FIRST_STEP]);
  const [open, setOpen] = useState(!cadence);
  const [saved, setSaved] = useState(false);
  const action = useAction();
  const setStep = (i: number, change: Partial<Step>) => setSteps(steps.map((s, j) => (j === i ? { ...s, ...change } : s)));
  const save = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const body = { name, assistant_name: assistant, enroll, match, steps };
      if (cadence) await api.patch("/cadences/{cadence_id}", { path: { cadence_id: cadence.cadence_id }, body });
      else await api.post("/accounts/{account_id}/cadences", { path: { account_id: accountId }, body });
      setSaved(true);
      onDone();
    });
  };
  const remove = () => cadence && void action.run(async () => {
    await api.delete("/cadences/{cadence_id}", { path: { cadence_id: cadence.cadence_id } });
    onDone();
  });
  const error = (field: string) => fieldError(action.error, field);
  if (!open && cadence) {
    return (
      <div class="row wrap">
        <strong>{cadence.name}</strong>
        <span class="muted">{cadence.assistant_name} · {cadence.enroll === "new_lead" ? "every new lead it matches" : "assigned by hand"} · {cadence.steps.length} steps over {duration(cadence.steps.reduce((sum, s) => sum + s.after_seconds, 0))}</span>
        <button type="button" onClick={() => setOpen(true)} aria-label={`Edit cadence ${cadence.name}`}>Edit</button>
      </div>
    );
  }
  return (
    <form onSubmit={save} aria-label={cadence ? `Cadence ${cadence.name}` : "New cadence"} noValidate>
      <div class="grid-2">
        <Field label="Name" error={error("name")}>{(id) => <input id={id} required value={name} onInput={(e) => setName(e.currentTarget.value)} />}</Field>
        <Field label="Assistant's name" hint="who the messages are from ({{assistant.name}})" error={error("assistant_name")}>{(id) => <input id={id} required value={assistant} onInput={(e) => setAssistant(e.currentTarget.value)} />}</Field>
        <Field label="Enrol" error={error("enroll")}>
          {(id) => (
            <select id={id} value={enroll} onChange={(e) => setEnroll(e.currentTarget.value as typeof enroll)}>
              <option value="manual">By hand (Assign cadence on a lead)</option>
              <option value="new_lead">Every new lead it matches</option>
            </select>
          )}
        </Field>
        {enroll === "new_lead" ? (
          <>
            <Field label="Only from source" error={error("match.source")}>{(id) => <input id={id} value={match.source ?? ""} onInput={(e) => setMatch({ ...match, source: e.currentTarget.value || null })} />}</Field>
            <Field label="Only from source group" error={error("match.source_group")}>{(id) => <input id={id} value={match.source_group ?? ""} onInput={(e) => setMatch({ ...match, source_group: e.currentTarget.value || null })} />}</Field>
            <Field label="Only on channel" error={error("match.channel")}>
              {(id) => (
                <select id={id} value={match.channel ?? ""} onChange={(e) => setMatch({ ...match, channel: (e.currentTarget.value || null) as Match["channel"] })}>
                  {MATCH_CHANNELS.map((c) => <option key={c} value={c}>{c || "any"}</option>)}
                </select>
              )}
            </Field>
          </>
        ) : null}
      </div>
      <fieldset>
        <legend>Steps (each waits after the previous one; the first after enrolment)</legend>
        {steps.map((step, i) => (
          <div class="rule" key={i}>
            <Field label={`Step ${i + 1}: wait (seconds)`} hint={duration(step.after_seconds)} error={error(`steps.${i}.after_seconds`)}>
              {(id) => <input id={id} type="number" min={0} required value={String(step.after_seconds)} onInput={(e) => setStep(i, { after_seconds: Number(e.currentTarget.value) })} />}
            </Field>
            <Field label="phase" error={error(`steps.${i}.phase`)}>
              {(id) => (
                <select id={id} value={step.phase} onChange={(e) => setStep(i, { phase: e.currentTarget.value as Step["phase"] })}>
                  <option value="first_touch">first touch</option>
                  <option value="follow_up">follow-up</option>
                </select>
              )}
            </Field>
            <Field label="channel" error={error(`steps.${i}.channel`)}>
              {(id) => (
                <select id={id} value={step.channel} onChange={(e) => setStep(i, { channel: e.currentTarget.value as Step["channel"] })}>
                  {CHANNELS.map((c) => <option key={c} value={c}>{label(c)}</option>)}
                </select>
              )}
            </Field>
            <Field label="email subject" error={error(`steps.${i}.subject`)}>{(id) => <input id={id} value={step.subject ?? ""} onInput={(e) => setStep(i, { subject: e.currentTarget.value || null })} />}</Field>
            <Field label="message" error={error(`steps.${i}.body`)}>{(id) => <textarea id={id} rows={2} required value={step.body} onInput={(e) => setStep(i, { body: e.currentTarget.value })} />}</Field>
            {steps.length > 1 ? <button type="button" class="link" onClick={() => setSteps(steps.filter((_, j) => j !== i))}>Remove step {i + 1}</button> : null}
          </div>
        ))}
        <button type="button" onClick={() => setSteps([...steps, { ...FIRST_STEP, after_seconds: 86400, phase: "follow_up", body: "" }])}>Add a step</button>
      </fieldset>
      <ErrorNote error={action.error} />
      {saved && !action.error ? <p class="muted" role="status">Saved.</p> : null}
      <div class="row">
        <button class="primary" type="submit" disabled={action.busy}>{cadence ? "Save cadence" : "Add cadence"}</button>
        {cadence ? <button type="button" onClick={() => setOpen(false)}>Close</button> : null}
        {cadence ? <button type="button" class="danger" onClick={() => confirm(`Delete the cadence “${cadence.name}”? Leads on it stop at their next step.`) && remove()}>Delete</button> : null}
      </div>
    </form>
  );
}
