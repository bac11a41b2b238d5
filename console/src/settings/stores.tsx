// Stores: their details, business hours (several intervals a day, overnight ones too) and holidays.
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, type Account } from "../api/client";
import { navigate, type Route } from "../router";
import { useApp } from "../state";
import { ErrorNote, Field, Loading, useAction, useAsync } from "../ui/common";

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
const DAY_NAMES: Record<(typeof DAYS)[number], string> = { mon: "Monday", tue: "Tuesday", wed: "Wednesday", thu: "Thursday", fri: "Friday", sat: "Saturday", sun: "Sunday" };
const TEXT_FIELDS = [
  ["name", "Name"], ["address", "Address"], ["sms_number", "SMS number (E.164)"], ["crm_email", "CRM email"],
  ["escalation_email", "Escalation email"], ["directions_url", "Directions link"], ["credit_app_url", "Credit application link"],
  ["voucher_url", "Voucher link"], ["timezone", "Time zone (IANA)"],
] as const;
type TextField = (typeof TEXT_FIELDS)[number][0];
type Hours = Record<string, string[][]>;

export function StorePicker({ route, base }: { route: Route; base: string }): JSX.Element {
  const app = useApp();
  const current = route.query.get("account_id") ?? [...app.accounts.keys()][0] ?? "";
  return (
    <Field label="Store">
      {(id) => (
        <select id={id} value={current} onChange={(e) => navigate(base, { account_id: e.currentTarget.value })}>
          {[...app.accounts.values()].map((a) => <option key={a.account_id} value={a.account_id}>{a.name}</option>)}
        </select>
      )}
    </Field>
  );
}

export function selectedStore(route: Route, accounts: Map<string, Account>): Account | undefined {
  const id = route.query.get("account_id");
  return (id ? accounts.get(id) : undefined) ?? [...accounts.values()][0];
}

/** A settings tab about one store: the store picker, then what `load` reads for the chosen store,
 * shown by `children` once it is there (with `reload`, and `set` for the API's answer to a save). */
export function PerStore<T>({ route, base, what, load, children }: {
  route: Route; base: string; what: string; load: (store: Account) => Promise<T>;
  children: (store: Account, data: T, reload: () => void, set: (value: T) => void) => JSX.Element;
}): JSX.Element {
  const app = useApp();
  const store = selectedStore(route, app.accounts);
  const found = useAsync(async () => (store ? load(store) : null), [store?.account_id]);
  return (
    <div>
      <form class="filters" onSubmit={(e) => e.preventDefault()}><StorePicker route={route} base={base} /></form>
      <ErrorNote error={found.error} />
      {found.data === null || !store ? (found.error ? null : <Loading what={what} />) : children(store, found.data, found.reload, found.set)}
    </div>
  );
}

export function Stores({ route }: { route: Route }): JSX.Element {
  const app = useApp();
  const store = selectedStore(route, app.accounts);
  return (
    <div>
      <form class="filters" onSubmit={(e) => e.preventDefault()}><StorePicker route={route} base="/settings/stores" /></form>
      {store ? <StoreForm key={store.account_id} store={store} /> : <p class="empty">No stores yet.</p>}
    </div>
  );
}

function StoreForm({ store }: { store: Account }): JSX.Element {
  const app = useApp();
  const [values, setValues] = useState<Record<TextField, string>>(() => Object.fromEntries(TEXT_FIELDS.map(([f]) => [f, store[f] ?? ""])) as Record<TextField, string>);
  const [notes, setNotes] = useState(store.campaign_notes ?? "");
  const [hours, setHours] = useState<Hours>(() => ({ ...store.business_hours }));
  const [holidays, setHolidays] = useState<string[]>(store.holidays);
  const [newHoliday, setNewHoliday] = useState("");
  const [saved, setSaved] = useState(false);
  const action = useAction();
  useEffect(() => setSaved(false), [values, notes, hours, holidays]);

  const save = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const text = Object.fromEntries(TEXT_FIELDS.map(([f]) => [f, values[f].trim() || null]));
      await api.patch("/accounts/{account_id}", {
        path: { account_id: store.account_id },
        body: { ...text, name: values.name.trim(), timezone: values.timezone.trim(), campaign_notes: notes.trim() || null, business_hours: hours, holidays },
      });
      await app.refreshDirectory();
      setSaved(true);
    });
  };
  const setInterval = (day: string, index: number, part: 0 | 1, value: string) => {
    const list = (hours[day] ?? []).map((iv) => [...iv]);
    list[index]![part] = value;
    setHours({ ...hours, [day]: list });
  };
  return (
    <form class="store-form" onSubmit={save} aria-label={`Settings of ${store.name}`}>
      <div class="grid-2">
        {TEXT_FIELDS.map(([f, title]) => (
          <Field key={f} label={title}>{(id) => <input id={id} value={values[f]} required={f === "name" || f === "timezone"} onInput={(e) => setValues({ ...values, [f]: e.currentTarget.value })} />}</Field>
        ))}
      </div>
      <Field label="Campaign notes (shown in red beside every lead of this store)">
        {(id) => <textarea id={id} rows={2} value={notes} onInput={(e) => setNotes(e.currentTarget.value)} />}
      </Field>
      <fieldset>
        <legend>Business hours ({values.timezone})</legend>
        <p class="muted small">An interval that ends before it starts runs past midnight (22:00–02:00). No interval: closed.</p>
        <table class="hours">
          <tbody>
            {DAYS.map((day) => (
              <tr key={day}>
                <th scope="row">{DAY_NAMES[day]}</th>
                <td>
                  {(hours[day] ?? []).length === 0 ? <span class="muted">closed</span> : null}
                  {(hours[day] ?? []).map((iv, i) => (
                    <span class="interval" key={i}>
                      <input type="time" aria-label={`${DAY_NAMES[day]} interval ${i + 1} opens`} value={iv[0]} required onInput={(e) => setInterval(day, i, 0, e.currentTarget.value)} />
                      –
                      <input type="time" aria-label={`${DAY_NAMES[day]} interval ${i + 1} closes`} value={iv[1]} required onInput={(e) => setInterval(day, i, 1, e.currentTarget.value)} />
                      {iv[0] && iv[1] && iv[1] <= iv[0] ? <small class="muted"> (overnight)</small> : null}
                      <button type="button" class="link" aria-label={`Remove ${DAY_NAMES[day]} interval ${i + 1}`} onClick={() => setHours({ ...hours, [day]: (hours[day] ?? []).filter((_, j) => j !== i) })}>×</button>
                    </span>
                  ))}
                  <button type="button" class="link" onClick={() => setHours({ ...hours, [day]: [...(hours[day] ?? []), ["09:00", "18:00"]] })}>Add hours on {DAY_NAMES[day]}</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </fieldset>
      <fieldset>
        <legend>Holidays (closed all day)</legend>
        <ul class="chips">
          {holidays.map((d) => (
            <li key={d} class="chip">{d}<button type="button" class="link" aria-label={`Remove holiday ${d}`} onClick={() => setHolidays(holidays.filter((h) => h !== d))}>×</button></li>
          ))}
        </ul>
        <div class="row">
          <Field label="Add a holiday">{(id) => <input id={id} type="date" value={newHoliday} onInput={(e) => setNewHoliday(e.currentTarget.value)} />}</Field>
          <button type="button" disabled={!newHoliday} onClick={() => { setHolidays([...new Set([...holidays, newHoliday])].sort()); setNewHoliday(""); }}>Add</button>
        </div>
      </fieldset>
      <ErrorNote error={action.error} />
      {saved ? <p class="muted" role="status">Saved.</p> : null}
      <button class="primary" type="submit" disabled={action.busy}>Save store</button>
    </form>
  );
}
