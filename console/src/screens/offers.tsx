// Pending offers with a live countdown; accept opens the lead, decline asks for a reason.
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, type Lead, type Offer } from "../api/client";
import { countdown } from "../format";
import type { LiveState } from "../live";
import { navigate } from "../router";
import { useApp } from "../state";
import { Dialog, ErrorNote, Field, useAction } from "../ui/common";
import { Icon } from "../ui/icons";

const REASONS = ["Busy with another customer", "Not my store or department", "Language I do not speak", "Going off shift"];

export function OffersPanel({ live }: { live: LiveState }): JSX.Element | null {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!live.offers.length) return;
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [live.offers.length]);
  if (!live.offers.length) return null;
  return (
    <section class="offers" aria-label="Offers waiting for you" aria-live="polite">
      <h2>Offered to you</h2>
      <ul>
        {live.offers.map((offer) => (
          <OfferCard key={offer.offer_id} offer={offer} now={now} onDone={live.refresh} />
        ))}
      </ul>
    </section>
  );
}

function OfferCard({ offer, now, onDone }: { offer: Offer; now: number; onDone: () => void }): JSX.Element {
  const app = useApp();
  const [lead, setLead] = useState<Lead | null>(null);
  const [declining, setDeclining] = useState(false);
  const [reason, setReason] = useState(REASONS[0]!);
  const action = useAction();
  useEffect(() => {
    api.get("/leads/{lead_id}", { path: { lead_id: offer.lead_id } }).then(setLead, () => setLead(null));
  }, [offer.lead_id]);
  const store = app.accounts.get(offer.account_id);
  const left = new Date(offer.expires_at).getTime() - now;
  const accept = () =>
    action.run(async () => {
      await api.post("/offers/{offer_id}/accept", { path: { offer_id: offer.offer_id } });
      onDone();
      navigate(`/leads/${offer.lead_id}`);
    });
  const decline = () =>
    action.run(async () => {
      await api.post("/offers/{offer_id}/decline", { path: { offer_id: offer.offer_id }, body: { reason } });
      setDeclining(false);
      onDone();
    });
  const name = lead?.name || "New lead";
  return (
    <li class="offer">
      <div class="offer-main">
        <Icon name={lead?.channel ?? "web"} label={lead?.channel ?? "lead"} />
        <div>
          <strong>{name}</strong>
          <span class="muted"> · {store?.name ?? "store"}{lead?.source ? ` · ${lead.source}` : ""}</span>
          {lead?.vehicle ? <div class="muted">{[lead.vehicle.year, lead.vehicle.make, lead.vehicle.model].filter(Boolean).join(" ")}</div> : null}
          {lead?.last_message_preview ? <div class="preview">“{lead.last_message_preview}”</div> : null}
        </div>
      </div>
      <div class="offer-actions">
        <span class={`countdown ${left < 30_000 ? "urgent" : ""}`} role="timer" aria-label={`Offer expires in ${countdown(offer.expires_at, now)}`}>
          {left > 0 ? countdown(offer.expires_at, now) : "expired"}
        </span>
        <button class="primary" type="button" disabled={action.busy || left <= 0} onClick={() => void accept()}>
          Accept {name}
        </button>
        <button type="button" disabled={action.busy || left <= 0} onClick={() => setDeclining(true)}>
          Decline
        </button>
      </div>
      <ErrorNote error={action.error} />
      <Dialog title={`Decline ${name}`} open={declining} onClose={() => setDeclining(false)}>
        <form onSubmit={(e) => { e.preventDefault(); void decline(); }}>
          <Field label="Reason">
            {(id) => (
              <select id={id} value={reason} onChange={(e) => setReason(e.currentTarget.value)}>
                {REASONS.map((r) => <option key={r}>{r}</option>)}
              </select>
            )}
          </Field>
          <ErrorNote error={action.error} />
          <div class="row">
            <button class="primary" type="submit" disabled={action.busy}>Decline offer</button>
            <button type="button" onClick={() => setDeclining(false)}>Cancel</button>
          </div>
        </form>
      </Dialog>
    </li>
  );
}
