// The inbox: every folder and filter of GET /leads over one store or every store the user sees,
// search, cursor paging, and queue rows that say what each lead needs. Refreshed every few
// seconds and whenever the live poll brings something new. The first page is asked for as the
// screen mounts, beside the shell's stores and people: rows show once the stores are known (their
// time zones), owners' names as soon as the people are.
import type { JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, type LeadRow } from "../api/client";
import { firstScreenShown } from "../first_screen";
import { label, shortTime, waiting } from "../format";
import { usePoll } from "../live";
import { href, navigate, type Route } from "../router";
import { personName, timezoneOf, useApp } from "../state";
import { Empty, ErrorNote, Field } from "../ui/common";
import { Icon } from "../ui/icons";
import { ResponseDue, StatusBubble } from "./status";

export const FOLDERS = ["inbox", "awaiting", "hot", "warm", "cold", "follow_up", "sold", "dead", "done", "appointments", "showed", "scheduled", "due", "delinquent"] as const;
const FILTERS = ["account_id", "folder", "source", "campaign", "label", "assigned_to", "q"] as const;
const INBOX_POLL_MS = 4000;
const PAGE = "50";

type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

function filtersOf(route: Route): Filters {
  const found: Filters = {};
  for (const name of FILTERS) {
    const value = route.query.get(name);
    if (value) found[name] = value;
  }
  return found;
}

export function Inbox({ route, pulse }: { route: Route; pulse: number }): JSX.Element {
  const app = useApp();
  const filters = filtersOf(route);
  const folder = filters.folder ?? "inbox";
  const key = JSON.stringify(filters);
  const [rows, setRows] = useState<LeadRow[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [search, setSearch] = useState(filters.q ?? "");
  const pages = useRef(1);

  useEffect(() => {
    setRows(null);
    pages.current = 1;
    setSearch(filters.q ?? "");
  }, [key]);

  const loadFirst = async () => {
    try {
      const page = await api.get("/leads", { query: { ...filters, limit: PAGE } });
      setError(null);
      setRows((previous) => {
        if (pages.current === 1 || !previous) {
          setCursor(page.next_cursor);
          return page.items;
        }
        const fresh = new Set(page.items.map((r) => r.lead_id));
        return [...page.items, ...previous.filter((r) => !fresh.has(r.lead_id))];
      });
    } catch (reason) {
      setError(reason);
    } finally {
      firstScreenShown();
    }
  };
  usePoll(loadFirst, INBOX_POLL_MS, [key, pulse]);

  const loadMore = async () => {
    if (!cursor) return;
    try {
      const page = await api.get("/leads", { query: { ...filters, limit: PAGE, cursor } });
      pages.current += 1;
      setRows((previous) => [...(previous ?? []), ...page.items]);
      setCursor(page.next_cursor);
    } catch (reason) {
      setError(reason);
    }
  };

  const setFilter = (name: (typeof FILTERS)[number], value: string) => navigate("/inbox", { ...filters, [name]: value || undefined });
  const stores = [...app.accounts.values()];
  const people = [...app.users.values()].filter((u) => u.role !== "group_admin" || u.user_id === app.me.user_id);

  return (
    <div class="inbox">
      <nav class="folders" aria-label="Folders">
        <ul>
          {FOLDERS.map((f) => (
            <li key={f}>
              <a href={href("/inbox", { ...filters, folder: f === "inbox" ? undefined : f })} aria-current={folder === f ? "page" : undefined}>
                {label(f)}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <section class="queue" aria-label={`${label(folder)} leads`}>
        <form class="filters" role="search" onSubmit={(e) => { e.preventDefault(); setFilter("q", search.trim()); }}>
          <Field label="Search">
            {(id) => <input id={id} type="search" placeholder="Name, phone or email" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />}
          </Field>
          <Field label="Store">
            {(id) => (
              <select id={id} value={filters.account_id ?? ""} onChange={(e) => setFilter("account_id", e.currentTarget.value)}>
                <option value="">All stores</option>
                {stores.map((s) => <option key={s.account_id} value={s.account_id}>{s.name}</option>)}
              </select>
            )}
          </Field>
          <Field label="Assigned to">
            {(id) => (
              <select id={id} value={filters.assigned_to ?? ""} onChange={(e) => setFilter("assigned_to", e.currentTarget.value)}>
                <option value="">Anyone</option>
                <option value="none">Nobody (unassigned)</option>
                {people.map((u) => <option key={u.user_id} value={u.user_id}>{u.user_id === app.me.user_id ? `${u.name} (you)` : u.name}</option>)}
              </select>
            )}
          </Field>
          <TextFilter name="source" title="Source" value={filters.source} onSet={setFilter} />
          <TextFilter name="campaign" title="Campaign" value={filters.campaign} onSet={setFilter} />
          <TextFilter name="label" title="Label" value={filters.label} onSet={setFilter} />
          <button type="submit">Search</button>
        </form>
        <ErrorNote error={error} />
        {rows === null || !app.loaded.accounts ? (
          error ? null : <p class="muted" role="status">Loading leads…</p>
        ) : rows.length === 0 ? (
          <Empty>No leads in {label(folder)}{Object.keys(filters).length > (filters.folder ? 1 : 0) ? " with these filters" : ""}.</Empty>
        ) : (
          <ul class="rows">
            {rows.map((row) => (
              <QueueRow key={row.lead_id} row={row} onChanged={() => void loadFirst()} />
            ))}
          </ul>
        )}
        {cursor ? (
          <button type="button" class="more" onClick={() => void loadMore()}>
            Load more
          </button>
        ) : null}
        <p class="muted small">{app.me.restricted ? "You see the leads assigned to you." : ""}</p>
      </section>
    </div>
  );
}

function TextFilter({ name, title, value, onSet }: { name: "source" | "campaign" | "label"; title: string; value: string | undefined; onSet: (name: "source" | "campaign" | "label", value: string) => void }): JSX.Element {
  const [text, setText] = useState(value ?? "");
  useEffect(() => setText(value ?? ""), [value]);
  return (
    <Field label={title}>
      {(id) => <input id={id} value={text} onInput={(e) => setText(e.currentTarget.value)} onChange={(e) => onSet(name, e.currentTarget.value.trim())} />}
    </Field>
  );
}

function QueueRow({ row, onChanged }: { row: LeadRow; onChanged: () => void }): JSX.Element {
  const app = useApp();
  const zone = timezoneOf(app, row.account_id);
  const lockedByOther = row.locked_by && row.locked_by !== app.me.user_id;
  const since = row.waiting_since ?? row.awaiting_since;
  return (
    <li class={`row-item ${since ? "awaiting" : ""} ${row.response_state === "missed" ? "missed" : ""}`}>
      <Icon name={row.channel} label={row.channel} />
      <div class="row-body">
        <div class="row-top">
          <a class="name" href={href(`/leads/${row.lead_id}`)}>{row.name || "Unnamed lead"}</a>
          <StatusBubble lead={row} onChanged={onChanged} />
          <ResponseDue lead={row} zone={zone} />
          {lockedByOther ? (
            <span class="locked" title={`Open by ${personName(app, row.locked_by)}`}>
              <Icon name="lock" label={`Open by ${personName(app, row.locked_by)}`} size={14} />
            </span>
          ) : null}
          <span class="when">{since ? waiting(since) : shortTime(row.last_activity_at, zone)}</span>
        </div>
        <div class="row-meta muted">
          {row.account_name}
          {row.campaign ? ` · ${row.campaign}` : ""}
          {row.source ? ` · ${row.source}` : ""}
          {row.assigned_to ? (app.loaded.users ? ` · ${personName(app, row.assigned_to)}` : "") : " · unassigned"}
        </div>
        {row.last_message_preview ? <div class="preview">{row.last_message_preview}</div> : null}
        {row.notes_excerpt ? <div class="note-excerpt">Note: {row.notes_excerpt}</div> : null}
      </div>
    </li>
  );
}
