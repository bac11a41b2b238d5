// Response time: arrival (or the next opening) to the first human response, grouped by agent,
// store, source or source group, with the buckets as a chart; below, the leads behind it (all of
// the period's, or an agent's or a source's row once picked).
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { api } from "../api/client";
import { duration, pct } from "../format";
import { href, navigate, type Route } from "../router";
import { BarChart } from "../ui/bar_chart";
import { ErrorNote, Field, Loading, useAsync } from "../ui/common";
import { rangeOf, ReportFilters, Stat } from "../ui/report_filters";
import { ResponseLeads } from "./response_leads";

const GROUPS = ["agent", "account", "source", "source_group"] as const;
const DEFAULT_BUCKETS = "0-1,1-6,6-24";
const DETAILED = new Set(["agent", "source"]);

export function ResponseTime({ route }: { route: Route }): JSX.Element {
  const range = rangeOf(route);
  const groupBy = route.query.get("group_by") ?? "agent";
  const buckets = route.query.get("buckets") ?? DEFAULT_BUCKETS;
  // A row of the agent or source grouping picks the leads shown below (the detail route filters by those).
  const detail = route.query.get("detail") ?? undefined;
  const [bucketText, setBucketText] = useState(buckets);
  const report = useAsync(() => api.get("/reports/response-time", { query: { ...range, group_by: groupBy, buckets } }), [range.account_id, range.from, range.to, groupBy, buckets]);
  const query = Object.fromEntries(route.query.entries());
  const data = report.data;
  return (
    <section class="report">
      <h1>Response time</h1>
      <ReportFilters route={route}>
        <Field label="Group by">
          {(id) => (
            <select id={id} value={groupBy} onChange={(e) => navigate(route.path, { ...query, group_by: e.currentTarget.value, detail: undefined })}>
              {GROUPS.map((g) => <option key={g} value={g}>{g === "account" ? "store" : g.replace("_", " ")}</option>)}
            </select>
          )}
        </Field>
        <Field label="Buckets (hours)" hint="e.g. 0-1,1-6,6-24">
          {(id) => <input id={id} value={bucketText} onInput={(e) => setBucketText(e.currentTarget.value)} onChange={() => navigate(route.path, { ...query, buckets: bucketText.trim() || undefined })} />}
        </Field>
      </ReportFilters>
      <ErrorNote error={report.error} />
      {!data ? (report.error ? null : <Loading what="the report" />) : (
        <>
          <div class="stats">
            <Stat name="Leads" value={data.totals.leads} />
            <Stat name="Responded" value={data.totals.responded} hint={`${data.totals.not_responded} not yet`} />
            <Stat name="Median" value={duration(data.totals.median_s)} />
            <Stat name="Mean" value={duration(data.totals.mean_s)} />
            <Stat name="Within 24 h" value={pct(data.totals.within_24h_pct)} />
          </div>
          <BarChart title="Leads by first response time" unit="leads" labels={data.totals.buckets.map((b) => `${b.from_h}–${b.to_h} h`)} values={data.totals.buckets.map((b) => b.count)} />
          <div class="table-wrap" tabIndex={0}>
            <table>
              <caption>By {groupBy === "account" ? "store" : groupBy.replace("_", " ")}</caption>
              <thead>
                <tr>
                  <th scope="col">{groupBy === "account" ? "Store" : groupBy.replace("_", " ")}</th>
                  <th scope="col">Leads</th><th scope="col">Responded</th><th scope="col">Median</th><th scope="col">Mean</th><th scope="col">Within 24 h</th>
                  {data.totals.buckets.map((b) => <th key={`${b.from_h}-${b.to_h}`} scope="col">{b.from_h}–{b.to_h} h</th>)}
                </tr>
              </thead>
              <tbody>
                {data.items.map((row) => (
                  <tr key={row.key} class={row.key === detail ? "chosen" : ""}>
                    <th scope="row">
                      {DETAILED.has(groupBy) ? (
                        <a href={href(route.path, { ...query, detail: row.key === detail ? undefined : row.key })} aria-current={row.key === detail ? "true" : undefined}>{row.label || row.key}</a>
                      ) : row.label || row.key}
                    </th>
                    <td>{row.leads}</td><td>{row.responded}</td><td>{duration(row.median_s)}</td><td>{duration(row.mean_s)}</td><td>{pct(row.within_24h_pct)}</td>
                    {row.buckets.map((b) => <td key={`${b.from_h}-${b.to_h}`}>{b.count} ({pct(b.pct)})</td>)}
                  </tr>
                ))}
                {data.items.length === 0 ? <tr><td colSpan={6 + data.totals.buckets.length}>No leads in this period.</td></tr> : null}
              </tbody>
            </table>
          </div>
          <ResponseLeads range={range} source={groupBy === "source" ? detail : undefined} agent={groupBy === "agent" ? detail : undefined} />
        </>
      )}
    </section>
  );
}
