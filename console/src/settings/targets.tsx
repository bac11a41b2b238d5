// Response targets of a store: how soon an owner must first answer a lead they took and reply to a
// customer's message, the warning before the deadline, and what a miss does. The API checks every
// field (and that the warning comes before both deadlines); its reasons are shown beside the fields.
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { api, type Account, type Schemas } from "../api/client";
import { dateTime, duration } from "../format";
import { type Route } from "../router";
import { personName, useApp } from "../state";
import { ErrorNote, Field, fieldError, useAction } from "../ui/common";
import { PerStore } from "./stores";

type Targets = Schemas["ResponseTargetsResponse"];
const SECONDS = [
  ["first_response_seconds", "First response (seconds)", "after the owner takes the lead", "300"],
  ["reply_seconds", "Reply to the customer (seconds)", "after each customer message to an owned lead", "900"],
  ["warn_before_seconds", "Warn the owner before (seconds)", "0: no warning; shorter than both targets", "60"],
] as const;
type SecondsField = (typeof SECONDS)[number][0];

export function ResponseTargets({ route }: { route: Route }): JSX.Element {
  const load = (store: Account) => api.get("/accounts/{account_id}/response-targets", { path: { account_id: store.account_id } });
  return (
    <PerStore route={route} base="/settings/targets" what="response targets" load={load}>
      {(store, targets, reload, set) => <TargetsForm key={store.account_id} targets={targets} onSaved={set} onRemoved={reload} />}
    </PerStore>
  );
}

function TargetsForm({ targets, onSaved, onRemoved }: { targets: Targets; onSaved: (t: Targets) => void; onRemoved: () => void }): JSX.Element {
  const app = useApp();
  const [values, setValues] = useState<Record<SecondsField, string>>(() => Object.fromEntries(SECONDS.map(([f, , , example]) => [f, String(targets[f] ?? (targets.enabled ? "" : example))])) as Record<SecondsField, string>);
  const [hoursOnly, setHoursOnly] = useState(targets.business_hours_only ?? false);
  const [onMiss, setOnMiss] = useState<"notify_managers" | "reoffer">(targets.on_miss === "reoffer" ? "reoffer" : "notify_managers");
  const [notice, setNotice] = useState<string | null>(null);
  const action = useAction();
  const save = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const number = (f: SecondsField) => (values[f].trim() === "" ? Number.NaN : Number(values[f]));
      const saved = await api.put("/accounts/{account_id}/response-targets", {
        path: { account_id: targets.account_id },
        body: { first_response_seconds: number("first_response_seconds"), reply_seconds: number("reply_seconds"),
          warn_before_seconds: number("warn_before_seconds"), business_hours_only: hoursOnly, on_miss: onMiss },
      });
      setNotice("Saved: leads get these deadlines from their next owner on.");
      onSaved(saved);
    });
  };
  const remove = () => void action.run(async () => {
    await api.delete("/accounts/{account_id}/response-targets", { path: { account_id: targets.account_id } });
    onRemoved();
  });
  return (
    <form onSubmit={save} aria-label="Response targets" noValidate>
      <p class="muted">
        {targets.enabled
          ? `In force since ${dateTime(targets.updated_at, app.accounts.get(targets.account_id)?.timezone)}${targets.updated_by ? ` (set by ${personName(app, targets.updated_by)})` : ""}.`
          : "This store has no response targets: its leads have no deadline."}
      </p>
      <div class="grid-2">
        {SECONDS.map(([f, title, hint]) => (
          <Field key={f} label={title} hint={values[f] && Number(values[f]) > 0 ? `${hint} (${duration(Number(values[f]))})` : hint} error={fieldError(action.error, f)}>
            {(id) => <input id={id} type="number" inputMode="numeric" value={values[f]} onInput={(e) => setValues({ ...values, [f]: e.currentTarget.value })} />}
          </Field>
        ))}
        <Field label="When a deadline is missed" error={fieldError(action.error, "on_miss")}>
          {(id) => (
            <select id={id} value={onMiss} onChange={(e) => setOnMiss(e.currentTarget.value as typeof onMiss)}>
              <option value="notify_managers">Alert the store's managers</option>
              <option value="reoffer">Alert the managers and offer the lead to the next agent</option>
            </select>
          )}
        </Field>
      </div>
      <label class="check"><input type="checkbox" checked={hoursOnly} onChange={(e) => setHoursOnly(e.currentTarget.checked)} /> The clock runs only while the store is open</label>
      <ErrorNote error={action.error} />
      {notice && !action.error ? <p class="muted" role="status">{notice}</p> : null}
      <div class="row">
        <button class="primary" type="submit" disabled={action.busy}>Save targets</button>
        {targets.enabled ? <button type="button" class="danger" disabled={action.busy} onClick={() => confirm("Remove this store's response targets?") && remove()}>Remove targets</button> : null}
      </div>
    </form>
  );
}
