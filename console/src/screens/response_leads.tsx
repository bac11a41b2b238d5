// The leads behind the response-time report: one row per lead of the period (oldest first), its
// clock start, first response (who, how, how long) and whether it met its target; filtered by the
// report's row (a source or an agent), cursor-paged, and downloadable as CSV.
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, send, type Schemas } from "../api/client";
import { duration, label, shortTime } from "../format";
import { href } from "../router";
import { personName, timezoneOf, useApp } from "../state";
import { ErrorNote, useAction } from "../ui/common";
import type { ReportRange } from "../ui/report_filters";

type Row = Schemas["ResponseLeadRow"];
const PAGE = "50";

export function ResponseLeads({ range, source, agent }: { range: ReportRange; source?: string; agent?: string }): JSX.Element {
  const app = useApp();
  const [rows, setRows] = useState<Row[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const download = useAction();
  const query = { ...range, ...(source ? { source } : {}), ...(agent ? { agent } : {}) };
  const key = JSON.stringify(query);
  const load = async (after: string | null) => {
    try {
      const page = await api.get("/reports/response-time/leads", { query: { ...query, limit: PAGE, ...(after ? { cursor: after } : {}) } });
      setRows((previous) => (after ? [...(previous ?? []), ...page.items] : page.items));
      setCursor(page.next_cursor ?? null);
      setError(null);
    } catch (reason) {
      setError(reason);
    }
  };
  useEffect(() => {
    setRows(null);
    void load(null);
  }, [key]);
  const csv = () => void download.run(async () => {
    const search = new URLSearchParams(Object.entries(query).filter(([, v]) => v) as [string, string][]);
    const reply = await send("GET", `/reports/response-time/leads?${search}`, { accept: "text/csv" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await reply.blob());
    link.download = `response-time-leads-${range.from ?? ""}-${range.to ?? ""}.csv`;
    link.click();
    URL.revokeObjectURL(link.href);
  });
  const what = source ? `from ${source}` : agent ? `of ${agent === "unassigned" ? "nobody" : personName(app, agent)}` : "of the period";
  return (
    <section aria-labelledby="response-leads-h">
      <div class="row wrap">
        <h2 id="response-leads-h">Leads {what}</h2>
        <button type="button" onClick={csv} disabled={download.busy}>Download CSV</button>
      </div>
      <ErrorNote error={error ?? download.error} />
      {rows === null ? null : (
        <div class="table-wrap" tabIndex={0}>
          <table class="response-leads">
            <thead>
              <tr><th scope="col">Lead</th><th scope="col">Received</th><th scope="col">Owner</th><th scope="col">First response</th><th scope="col">Time</th><th scope="col">Target</th></tr>
            </thead>
            <tbody>
              {rows.map((row) => {
                const zone = timezoneOf(app, row.account_id);
                return (
                  <tr key={row.lead_id}>
                    <th scope="row">{row.name !== null ? <a href={href(`/leads/${row.lead_id}`)}>{row.name || "Unnamed lead"}</a> : "(removed)"} <span class="muted">{row.source}</span></th>
                    <td>{shortTime(row.received_at, zone)}{row.clock_started_at !== row.received_at ? <span class="muted"> (clock from {shortTime(row.clock_started_at, zone)})</span> : null}</td>
                    <td>{row.agent_name ?? (row.assigned_to ? personName(app, row.assigned_to) : "nobody")}</td>
                    <td>{row.first_response_at ? `${label(row.first_response_kind ?? "response")}${row.responded_by ? ` by ${personName(app, row.responded_by)}` : ""}, ${shortTime(row.first_response_at, zone)}` : "not yet"}</td>
                    <td>{duration(row.response_s)}</td>
                    <td class={row.within_target === false ? "missed-cell" : ""}>{row.within_target === null ? "–" : row.within_target ? "met" : "missed"}</td>
                  </tr>
                );
              })}
              {rows.length === 0 ? <tr><td colSpan={6}>No leads.</td></tr> : null}
            </tbody>
          </table>
        </div>
      )}
      {cursor ? <button type="button" class="more" onClick={() => void load(cursor)}>Load more</button> : null}
    </section>
  );
}
