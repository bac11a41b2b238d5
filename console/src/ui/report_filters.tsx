// The filter bar every report shares: store (or all) and a date range (default: the last 30 days),
// kept in the route's query so a report can be linked to and reloaded.
import type { ComponentChildren, JSX } from "preact";
import { isoDay } from "../format";
import { navigate, type Route } from "../router";
import { useApp } from "../state";
import { Field } from "./common";

export interface ReportRange {
  account_id?: string;
  from: string;
  to: string;
}

export function rangeOf(route: Route): ReportRange {
  return {
    account_id: route.query.get("account_id") ?? undefined,
    from: route.query.get("from") ?? isoDay(29),
    to: route.query.get("to") ?? isoDay(0),
  };
}

export function ReportFilters({ route, store = true, children }: { route: Route; store?: boolean; children?: ComponentChildren }): JSX.Element {
  const app = useApp();
  const range = rangeOf(route);
  const query = Object.fromEntries(route.query.entries());
  const set = (name: string, value: string) => navigate(route.path, { ...query, [name]: value || undefined });
  return (
    <form class="filters report-filters" onSubmit={(e) => e.preventDefault()} aria-label="Report filters">
      {store ? (
        <Field label="Store">
          {(id) => (
            <select id={id} value={range.account_id ?? ""} onChange={(e) => set("account_id", e.currentTarget.value)}>
              <option value="">All stores</option>
              {[...app.accounts.values()].map((a) => <option key={a.account_id} value={a.account_id}>{a.name}</option>)}
            </select>
          )}
        </Field>
      ) : null}
      <Field label="From">{(id) => <input id={id} type="date" value={range.from} max={range.to} onChange={(e) => set("from", e.currentTarget.value)} />}</Field>
      <Field label="To">{(id) => <input id={id} type="date" value={range.to} min={range.from} onChange={(e) => set("to", e.currentTarget.value)} />}</Field>
      {children}
    </form>
  );
}

export function Stat({ name, value, hint }: { name: string; value: string | number; hint?: string }): JSX.Element {
  return (
    <div class="stat">
      <div class="stat-value">{value}</div>
      <div class="stat-name">{name}</div>
      {hint ? <div class="muted small">{hint}</div> : null}
    </div>
  );
}
