// The assistant at work: what the cadences did for the period's leads (enrolled, contacted,
// engaged, hot, appointments; stopped by staff, opted out), in total and per cadence.
import type { JSX } from "preact";
import { api } from "../api/client";
import { pct } from "../format";
import { href, type Route } from "../router";
import { useApp } from "../state";
import { Empty, ErrorNote, Loading, useAsync } from "../ui/common";
import { rangeOf, ReportFilters, Stat } from "../ui/report_filters";

const COLUMNS = [["enrolled", "Enrolled"], ["contacted", "Contacted"], ["engaged", "Engaged"], ["hot", "Hot"],
  ["appointments", "Appointments"], ["stopped_by_staff", "Stopped by staff"], ["opted_out", "Opted out"]] as const;

export function Assistant({ route }: { route: Route }): JSX.Element {
  const app = useApp();
  const range = rangeOf(route);
  const report = useAsync(() => api.get("/reports/assistant", { query: { ...range } }), [range.account_id, range.from, range.to]);
  // Stores often share a cadence's name: each row says its store (the report names the cadence only).
  const stores = useAsync(async () => {
    const found = new Map<string, string>();
    await Promise.all([...app.accounts.values()].map(async (store) => {
      const page = await api.get("/accounts/{account_id}/cadences", { path: { account_id: store.account_id } });
      for (const cadence of page.items) found.set(cadence.cadence_id, store.name);
    }));
    return found;
  }, [app.accounts.size]);
  const data = report.data;
  return (
    <section class="report">
      <h1>Assistant</h1>
      <ReportFilters route={route} />
      <ErrorNote error={report.error} />
      {!data ? (report.error ? null : <Loading what="the report" />) : (
        <>
          <div class="stats">
            <Stat name="Enrolled" value={data.enrolled} />
            <Stat name="Contacted" value={data.contacted} />
            <Stat name="Engaged" value={data.engaged} hint={`${pct(data.engaged_pct)} of those enrolled`} />
            <Stat name="Appointments" value={data.appointments} />
          </div>
          {data.by_cadence.length === 0 ? (
            <Empty>No lead was on a cadence in this period. <a href={href("/settings/cadences")}>Set up a cadence</a>.</Empty>
          ) : (
            <div class="table-wrap" tabIndex={0}>
              <table>
                <caption>Per cadence</caption>
                <thead>
                  <tr><th scope="col">Cadence</th>{COLUMNS.map(([c, title]) => <th key={c} scope="col">{title}</th>)}<th scope="col">Engaged %</th></tr>
                </thead>
                <tbody>
                  {data.by_cadence.map((row) => (
                    <tr key={row.cadence_id}><th scope="row">{row.name}{stores.data?.get(row.cadence_id) && app.accounts.size > 1 ? <span class="muted"> · {stores.data.get(row.cadence_id)}</span> : null}</th>{COLUMNS.map(([c]) => <td key={c}>{row[c]}</td>)}<td>{pct(row.engaged_pct)}</td></tr>
                  ))}
                </tbody>
                <tfoot>
                  <tr><th scope="row">All cadences</th>{COLUMNS.map(([c]) => <td key={c}>{data[c]}</td>)}<td>{pct(data.engaged_pct)}</td></tr>
                </tfoot>
              </table>
            </div>
          )}
        </>
      )}
    </section>
  );
}
