// The dashboard: company figures for a store (or every store) over a date range, and a row per
// agent with accepted / declined / timed-out bars, the score in a circle and the detail behind it.
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { api, describeError, send, type Schemas } from "../api/client";
import { dateTime, duration, label, pct, percent } from "../format";
import { type Route } from "../router";
import { timezoneOf, useApp } from "../state";
import { ErrorNote, Loading, useAsync } from "../ui/common";
import { rangeOf, ReportFilters, Stat } from "../ui/report_filters";

type AgentRow = Schemas["AgentRow"];

export function Dashboard({ route }: { route: Route }): JSX.Element {
  const app = useApp();
  const range = rangeOf(route);
  const report = useAsync(() => api.get("/reports/dashboard", { query: { ...range } }), [range.account_id, range.from, range.to]);
  const [csvError, setCsvError] = useState<string | null>(null);
  const store = range.account_id ? app.accounts.get(range.account_id) : undefined;

  const download = async () => {
    setCsvError(null);
    try {
      const search = new URLSearchParams(Object.entries(range).filter((e): e is [string, string] => Boolean(e[1])));
      const reply = await send("GET", `/reports/dashboard?${search.toString()}`, { accept: "text/csv" });
      const url = URL.createObjectURL(await reply.blob());
      const link = document.createElement("a");
      link.href = url;
      link.download = `dashboard-${store ? store.name.toLowerCase().replace(/[^a-z0-9]+/g, "-") : "all-stores"}-${range.from}-${range.to}.csv`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (reason) {
      setCsvError(describeError(reason));
    }
  };

  const data = report.data;
  const widest = Math.max(1, ...(data?.agents ?? []).map((a) => a.accepted + a.declined + a.timed_out));
  return (
    <section class="report">
      <h1>Dashboard{store ? `: ${store.name}` : ": all stores"}</h1>
      <ReportFilters route={route}>
        <button type="button" onClick={() => void download()}>Download CSV</button>
      </ReportFilters>
      {csvError ? <p class="error" role="alert">{csvError}</p> : null}
      <ErrorNote error={report.error} />
      {!data ? (report.error ? null : <Loading what="the dashboard" />) : (
        <>
          <div class="stats">
            <Stat name="Leads" value={data.leads} />
            <Stat name="Accepted" value={percent(data.acceptance_rate)} hint={`${data.accepted} leads`} />
            <Stat name="Catch-all accepted" value={percent(data.catchall_acceptance_rate)} hint={`${data.catchall_accepted} leads`} />
            <Stat name="Delinquent" value={data.delinquent} />
            <Stat name="Response targets met" value={pct(data.targets_met_pct)} hint={`${data.targets_met} met, ${data.targets_missed} missed`} />
            <Stat name="Median time to accept" value={duration(data.time_to_accept.median_s)} hint={`mean ${duration(data.time_to_accept.mean_s)}`} />
          </div>
          <h2>Agents</h2>
          <p class="legend" aria-hidden="true"><span class="key accepted" /> accepted <span class="key declined" /> declined <span class="key timed-out" /> timed out</p>
          {data.agents.length === 0 ? <p class="empty">No offers in this period.</p> : null}
          <ul class="agents">
            {data.agents.map((agent) => <AgentBar key={agent.user_id} agent={agent} widest={widest} range={range} zone={timezoneOf(app, range.account_id)} />)}
          </ul>
          <p class="muted small">As of {dateTime(data.period.as_of, timezoneOf(app, range.account_id))}.</p>
        </>
      )}
    </section>
  );
}

function ScoreCircle({ score }: { score: number }): JSX.Element {
  const tone = score >= 100 ? "good" : score >= 80 ? "fair" : "poor";
  return (
    <svg class={`score ${tone}`} width="48" height="48" viewBox="0 0 48 48" role="img" aria-label={`Score ${score}`}>
      <circle cx="24" cy="24" r="21" />
      <text x="24" y="29" text-anchor="middle">{score}</text>
    </svg>
  );
}

function AgentBar({ agent, widest, range, zone }: { agent: AgentRow; widest: number; range: { account_id?: string; from: string; to: string }; zone: string | undefined }): JSX.Element {
  const [open, setOpen] = useState(false);
  const parts = [["accepted", agent.accepted], ["declined", agent.declined], ["timed-out", agent.timed_out]] as const;
  const detailId = `agent-${agent.user_id}`;
  return (
    <li class="agent">
      <ScoreCircle score={agent.score} />
      <div class="agent-main">
        <button type="button" class="link agent-name" aria-expanded={open} aria-controls={detailId} onClick={() => setOpen(!open)}>
          {agent.name}
        </button>
        <div class="bar" role="img" aria-label={`${agent.accepted} accepted, ${agent.declined} declined, ${agent.timed_out} timed out of ${agent.offered} offered`}>
          {parts.map(([name, count]) => (count ? <span key={name} class={`seg ${name}`} style={{ width: `${(count / widest) * 100}%` }}>{count}</span> : null))}
        </div>
        {open ? <AgentDetail id={detailId} agent={agent} range={range} zone={zone} /> : null}
      </div>
    </li>
  );
}

function AgentDetail({ id, agent, range, zone }: { id: string; agent: AgentRow; range: { from: string; to: string }; zone: string | undefined }): JSX.Element {
  const score = useAsync(() => api.get("/users/{user_id}/score", { path: { user_id: agent.user_id }, query: { from: range.from, to: range.to } }), [agent.user_id, range.from, range.to]);
  const figures: [string, number | string][] = [
    ["offered", agent.offered], ["accepted", agent.accepted], ["declined", agent.declined], ["timed out", agent.timed_out],
    ["claimed", agent.claimed], ["assigned", agent.assigned], ["owned", agent.owned], ["contacted", agent.contacted],
    ["not contacted", agent.not_contacted], ["in progress", agent.in_progress], ["closed won", agent.closed_won],
    ["closed lost", agent.closed_lost], ["comments per lead", agent.avg_comments_per_lead],
    ["first response (median)", duration(agent.first_response_median_s)], ["targets met", agent.targets_met],
    ["targets missed", agent.targets_missed],
  ];
  return (
    <div id={id} class="agent-detail">
      <dl class="facts grid">
        {figures.map(([name, value]) => (
          <div key={name}><dt>{name}</dt><dd>{value}</dd></div>
        ))}
      </dl>
      <ErrorNote error={score.error} />
      {score.data ? (
        <details>
          <summary>How the score of {score.data.score} is made ({score.data.events.length} entries from {score.data.base})</summary>
          <ul class="score-events">
            {score.data.events.map((e) => (
              <li key={e.event_id}>{e.points > 0 ? `+${e.points}` : e.points} {label(e.reason)} · {dateTime(e.at, zone)}</li>
            ))}
          </ul>
        </details>
      ) : null}
    </div>
  );
}
