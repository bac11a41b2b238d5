// The group overview: sales or service, the group's totals, and a row per store that jumps into
// that store's dashboard.
import type { JSX } from "preact";
import { api } from "../api/client";
import { firstScreenShown } from "../first_screen";
import { duration, percent } from "../format";
import { href, navigate, type Route } from "../router";
import { ErrorNote, Loading, useAsync } from "../ui/common";
import { rangeOf, ReportFilters, Stat } from "../ui/report_filters";

export function Overview({ route }: { route: Route }): JSX.Element {
  const range = rangeOf(route);
  const kind = route.query.get("kind") === "service" ? "service" : "sales";
  const report = useAsync(
    () => api.get("/reports/overview", { query: { kind, from: range.from, to: range.to } }).finally(firstScreenShown),
    [kind, range.from, range.to],
  );
  const query = Object.fromEntries(route.query.entries());
  const data = report.data;
  return (
    <section class="report">
      <h1>Group overview</h1>
      <ReportFilters route={route} store={false}>
        <fieldset class="toggle">
          <legend>Department</legend>
          {(["sales", "service"] as const).map((k) => (
            <label key={k}>
              <input type="radio" name="kind" value={k} checked={kind === k} onChange={() => navigate("/overview", { ...query, kind: k })} />
              {k === "sales" ? "Sales" : "Service"}
            </label>
          ))}
        </fieldset>
      </ReportFilters>
      <ErrorNote error={report.error} />
      {!data ? (report.error ? null : <Loading what="the overview" />) : (
        <>
          <div class="stats">
            <Stat name="Leads" value={data.totals.leads} />
            <Stat name="Accepted" value={percent(data.totals.acceptance_rate)} hint={`${data.totals.accepted} of ${data.totals.leads}`} />
            <Stat name="Median response" value={duration(data.totals.median_response_s)} />
            <Stat name="Appointments" value={data.totals.appointments} hint={`${data.totals.showed} showed`} />
            <Stat name="Sold" value={data.totals.sold} />
            <Stat name="Delinquent" value={data.totals.delinquent} />
          </div>
          <div class="table-wrap" tabIndex={0}>
            <table>
              <caption>Stores ({kind})</caption>
              <thead>
                <tr><th scope="col">Store</th><th scope="col">Leads</th><th scope="col">Accepted</th><th scope="col">Median response</th><th scope="col">Within 24 h</th><th scope="col">Appointments</th><th scope="col">Showed</th><th scope="col">Sold</th><th scope="col">Delinquent</th></tr>
              </thead>
              <tbody>
                {data.accounts.map((row) => (
                  <tr key={row.account_id}>
                    <th scope="row"><a href={href("/dashboard", { account_id: row.account_id, from: range.from, to: range.to })}>{row.name}</a></th>
                    <td>{row.leads}</td>
                    <td>{percent(row.acceptance_rate)}</td>
                    <td>{duration(row.median_response_s)}</td>
                    <td>{row.within_24h}</td>
                    <td>{row.appointments}</td>
                    <td>{row.showed}</td>
                    <td>{row.sold}</td>
                    <td>{row.delinquent}</td>
                  </tr>
                ))}
                {data.accounts.length === 0 ? <tr><td colSpan={9}>No {kind} stores.</td></tr> : null}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
