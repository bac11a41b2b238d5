// Lead sources: requests, duplicates and outcomes per source.
import type { JSX } from "preact";
import { api } from "../api/client";
import { type Route } from "../router";
import { ErrorNote, Loading, useAsync } from "../ui/common";
import { rangeOf, ReportFilters } from "../ui/report_filters";

const COLUMNS = ["leads", "hot", "duplicates", "no_email", "no_phone", "appointments", "showed", "sold"] as const;

export function LeadSources({ route }: { route: Route }): JSX.Element {
  const range = rangeOf(route);
  const report = useAsync(() => api.get("/reports/lead-sources", { query: { ...range } }), [range.account_id, range.from, range.to]);
  const data = report.data;
  return (
    <section class="report">
      <h1>Lead sources</h1>
      <ReportFilters route={route} />
      <ErrorNote error={report.error} />
      {!data ? (report.error ? null : <Loading what="the report" />) : (
        <div class="table-wrap" tabIndex={0}>
          <table>
            <caption>Per source</caption>
            <thead>
              <tr><th scope="col">Source</th>{COLUMNS.map((c) => <th key={c} scope="col">{c.replace("_", " ")}</th>)}</tr>
            </thead>
            <tbody>
              {data.items.map((row) => (
                <tr key={row.source}><th scope="row">{row.source}</th>{COLUMNS.map((c) => <td key={c}>{row[c]}</td>)}</tr>
              ))}
              {data.items.length === 0 ? <tr><td colSpan={COLUMNS.length + 1}>No leads in this period.</td></tr> : null}
            </tbody>
            <tfoot>
              <tr><th scope="row">All sources</th>{COLUMNS.map((c) => <td key={c}>{data.totals[c]}</td>)}</tr>
            </tfoot>
          </table>
        </div>
      )}
    </section>
  );
}
