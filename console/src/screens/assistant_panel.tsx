// The lead's cadence ("the assistant"): which one, how far it got, what comes next or why it
// stopped; assign one (or another), or take the lead off it. Skip to follow-up and stop / resume
// messaging are among the sidebar's actions (they act on the lead as well as its cadence).
import type { JSX } from "preact";
import { api, type Lead } from "../api/client";
import { dateTime, label } from "../format";
import { personName, useApp } from "../state";

export function AssistantPanel({ lead, onAssign, act }: { lead: Lead; onAssign: () => void; act: (what: string, call: () => Promise<unknown>) => void }): JSX.Element {
  const app = useApp();
  const zone = app.accounts.get(lead.account_id)?.timezone;
  const enrolment = lead.cadence;
  return (
    <section aria-labelledby="assistant-h">
      <h2 id="assistant-h">Assistant</h2>
      {enrolment ? (
        <dl class="facts">
          <dt>Cadence</dt>
          <dd>{enrolment.name} <span class="muted">(as {enrolment.assistant_name})</span></dd>
          <dt>State</dt>
          <dd class={`enrolment-${enrolment.state}`}>
            {label(enrolment.state)}
            {enrolment.stop_reason ? `: ${label(enrolment.stop_reason)}` : ""}
            {enrolment.stopped_at ? ` (${dateTime(enrolment.stopped_at, zone)})` : ""}
          </dd>
          <dt>Sent</dt>
          <dd>{enrolment.steps_sent} {enrolment.steps_sent === 1 ? "step" : "steps"}</dd>
          {enrolment.state === "active" && enrolment.next_at ? (<><dt>Next step</dt><dd>{dateTime(enrolment.next_at, zone)}</dd></>) : null}
          <dt>Enrolled</dt>
          <dd>{dateTime(enrolment.enrolled_at, zone)}{enrolment.enrolled_by ? ` by ${personName(app, enrolment.enrolled_by)}` : " (on arrival)"}</dd>
        </dl>
      ) : <p class="muted">No cadence: nothing automated goes to this customer.</p>}
      <div class="actions">
        <button type="button" onClick={onAssign}>{enrolment?.state === "active" ? "Change cadence" : "Assign cadence"}</button>
        {enrolment?.state === "active" ? (
          <button type="button" onClick={() => act("Taken off the cadence.", () => api.delete("/leads/{lead_id}/cadence", { path: { lead_id: lead.lead_id } }))}>Remove from cadence</button>
        ) : null}
      </div>
    </section>
  );
}
