// Routing of a store: offer timeout, strategy, rules (match -> team, weights), catch-all users.
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { api, type Account, type Schemas } from "../api/client";
import { type Route } from "../router";
import { useApp } from "../state";
import { ErrorNote, Field, useAction } from "../ui/common";
import { PerStore } from "./stores";

type Rule = Schemas["RoutingRuleRequest"];
type Match = Schemas["RuleMatchRequest"];
const NO_MATCH: Match = { source: null, source_group: null, channel: null };
const CHANNELS = ["", "sms", "messenger", "web", "email", "phone"] as const;

export function Routing({ route }: { route: Route }): JSX.Element {
  const load = (store: Account) => api.get("/accounts/{account_id}/routing", { path: { account_id: store.account_id } });
  return (
    <PerStore route={route} base="/settings/routing" what="routing" load={load}>
      {(store, config) => <RoutingForm key={store.account_id} accountId={store.account_id} config={config} />}
    </PerStore>
  );
}

function RoutingForm({ accountId, config }: { accountId: string; config: Schemas["RoutingConfigResponse"] }): JSX.Element {
  const app = useApp();
  const people = [...app.users.values()].filter((u) => u.account_ids.includes(accountId));
  const agents = people.filter((u) => u.role === "agent");
  const [timeout, setTimeoutValue] = useState(String(config.offer_timeout_seconds));
  const [strategy, setStrategy] = useState<"round_robin" | "weighted">(config.strategy === "weighted" ? "weighted" : "round_robin");
  const [hours, setHours] = useState(config.respect_business_hours);
  const [catchall, setCatchall] = useState<string[]>(config.catchall_user_ids);
  const [rules, setRules] = useState<Rule[]>(config.rules as Rule[]);
  const [saved, setSaved] = useState(false);
  const action = useAction();
  const save = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      await api.put("/accounts/{account_id}/routing", {
        path: { account_id: accountId },
        body: { offer_timeout_seconds: Number(timeout), strategy, respect_business_hours: hours, catchall_user_ids: catchall, rules },
      });
      setSaved(true);
    });
  };
  const setRule = (i: number, next: Rule) => setRules(rules.map((r, j) => (j === i ? next : r)));
  const setMatch = (i: number, change: Partial<Match>) => setRules(rules.map((r, j) => (j === i ? { ...r, match: { ...NO_MATCH, ...r.match, ...change } } : r)));
  return (
    <form onSubmit={save} aria-label="Routing">
      <div class="grid-2">
        <Field label="Offer timeout (seconds)">{(id) => <input id={id} type="number" min={1} required value={timeout} onInput={(e) => setTimeoutValue(e.currentTarget.value)} />}</Field>
        <Field label="Strategy">
          {(id) => (
            <select id={id} value={strategy} onChange={(e) => setStrategy(e.currentTarget.value as typeof strategy)}>
              <option value="round_robin">Round robin</option>
              <option value="weighted">Weighted</option>
            </select>
          )}
        </Field>
      </div>
      <label class="check"><input type="checkbox" checked={hours} onChange={(e) => setHours(e.currentTarget.checked)} /> Offer only in business hours</label>
      <fieldset>
        <legend>Catch-all users (offered after every agent)</legend>
        {people.map((u) => (
          <label key={u.user_id} class="check">
            <input type="checkbox" checked={catchall.includes(u.user_id)} onChange={(e) => setCatchall(e.currentTarget.checked ? [...catchall, u.user_id] : catchall.filter((c) => c !== u.user_id))} />
            {u.name}
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Rules (first match wins; none: every active agent)</legend>
        {rules.map((rule, i) => (
          <div class="rule" key={i}>
            <Field label={`Rule ${i + 1}: source`}>{(id) => <input id={id} value={rule.match?.source ?? ""} onInput={(e) => setMatch(i, { source: e.currentTarget.value || null })} />}</Field>
            <Field label="source group">{(id) => <input id={id} value={rule.match?.source_group ?? ""} onInput={(e) => setMatch(i, { source_group: e.currentTarget.value || null })} />}</Field>
            <Field label="channel">
              {(id) => (
                <select id={id} value={rule.match?.channel ?? ""} onChange={(e) => setMatch(i, { channel: (e.currentTarget.value || null) as Match["channel"] })}>
                  {CHANNELS.map((c) => <option key={c} value={c}>{c || "any"}</option>)}
                </select>
              )}
            </Field>
            <Field label="team">{(id) => <input id={id} value={rule.team ?? ""} onInput={(e) => setRule(i, { ...rule, team: e.currentTarget.value || null })} />}</Field>
            {strategy === "weighted" ? agents.map((a) => (
              <Field key={a.user_id} label={`weight of ${a.name}`}>
                {(id) => <input id={id} type="number" min={0} value={String(rule.weights?.[a.user_id] ?? "")} onInput={(e) => setRule(i, { ...rule, weights: { ...rule.weights, [a.user_id]: Number(e.currentTarget.value || 0) } })} />}
              </Field>
            )) : null}
            <button type="button" class="link" onClick={() => setRules(rules.filter((_, j) => j !== i))}>Remove rule {i + 1}</button>
          </div>
        ))}
        <button type="button" onClick={() => setRules([...rules, { match: NO_MATCH, team: null, weights: {} }])}>Add a rule</button>
      </fieldset>
      <ErrorNote error={action.error} />
      {saved ? <p class="muted" role="status">Saved.</p> : null}
      <button class="primary" type="submit" disabled={action.busy}>Save routing</button>
    </form>
  );
}
