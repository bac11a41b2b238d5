// The signed-in shell: navigation, the offers and notification centre, the live poll, and the
// screen the hash route names. Screens for routes the API does not serve yet are simply absent
// from ROUTES (add one line here and one module under screens/ when they land). Loaded as its own
// chunk (app.tsx), so the sign-in form does not wait for every screen's code.
import type { JSX } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { allPages, api, describeError, type Account, type User } from "./api/client";
import { useLive, type LiveState } from "./live";
import { href, navigate, useRoute, type Route } from "./router";
import { signOut } from "./session";
import { AppContext, isManager, type AppState } from "./state";
import { Icon } from "./ui/icons";
import { Inbox } from "./screens/inbox";
import { Conversation } from "./screens/conversation";
import { OffersPanel } from "./screens/offers";
import { NotificationCentre } from "./screens/notifications";
import { Overview } from "./screens/overview";
import { Dashboard } from "./screens/dashboard";
import { ResponseTime } from "./screens/response_time";
import { LeadSources } from "./screens/lead_sources";
import { Assistant } from "./screens/assistant";
import { Files } from "./screens/files";
import { Settings } from "./settings/settings";

interface Screen {
  path: string;
  title: string;
  nav: boolean;
  allowed: (me: User) => boolean;
  render: (route: Route, live: LiveState) => JSX.Element;
}

const everyone = () => true;

const ROUTES: Screen[] = [
  { path: "inbox", title: "Inbox", nav: true, allowed: everyone, render: (route, live) => <Inbox route={route} pulse={live.pulse} /> },
  { path: "leads", title: "Conversation", nav: false, allowed: everyone, render: (route, live) => <Conversation leadId={route.parts[1] ?? ""} pulse={live.pulse} /> },
  { path: "overview", title: "Overview", nav: true, allowed: isManager, render: (route) => <Overview route={route} /> },
  { path: "dashboard", title: "Dashboard", nav: true, allowed: isManager, render: (route) => <Dashboard route={route} /> },
  { path: "response-time", title: "Response time", nav: true, allowed: isManager, render: (route) => <ResponseTime route={route} /> },
  { path: "lead-sources", title: "Lead sources", nav: true, allowed: isManager, render: (route) => <LeadSources route={route} /> },
  { path: "assistant", title: "Assistant", nav: true, allowed: isManager, render: (route) => <Assistant route={route} /> },
  { path: "files", title: "Nightly files", nav: true, allowed: isManager, render: (route) => <Files route={route} /> },
  { path: "settings", title: "Settings", nav: true, allowed: isManager, render: (route) => <Settings route={route} /> },
];

export function SignedIn(): JSX.Element {
  const [state, setState] = useState<AppState | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = async () => {
    try {
      // One round trip, not three: who I am, the stores and the people I may see, in parallel.
      const [me, accounts, users] = await Promise.all([
        api.get("/me"),
        // GET /accounts and /users answer the generic Page schema: the items are these records.
        allPages<Account>(async (cursor) => (await api.get("/accounts", { query: { limit: "200", cursor } })) as { items: Account[]; next_cursor: string | null }),
        allPages<User>(async (cursor) => (await api.get("/users", { query: { limit: "200", cursor } })) as { items: User[]; next_cursor: string | null }).catch(() => [] as User[]),
      ]);
      if (!users.some((u) => u.user_id === me.user_id)) users.push(me);
      setState({
        me,
        accounts: new Map(accounts.map((a) => [a.account_id, a])),
        users: new Map(users.map((u) => [u.user_id, u])),
        refreshMe: load,
        refreshDirectory: load,
      });
    } catch (reason) {
      setError(describeError(reason));
    }
  };
  useEffect(() => void load(), []);

  if (error) {
    return (
      <main class="signin">
        <p class="error" role="alert">{error}</p>
        <button type="button" onClick={signOut}>Sign out</button>
      </main>
    );
  }
  if (!state) return <p class="muted" role="status">Loading…</p>;
  return (
    <AppContext.Provider value={state}>
      <Shell state={state} />
    </AppContext.Provider>
  );
}

function Shell({ state }: { state: AppState }): JSX.Element {
  const route = useRoute();
  const live = useLive();
  const [menuOpen, setMenuOpen] = useState(false);
  const screens = useMemo(() => ROUTES.filter((r) => r.allowed(state.me)), [state.me]);
  const home = isManager(state.me) ? "overview" : "inbox";
  const screen = screens.find((s) => s.path === route.parts[0]);

  useEffect(() => {
    if (!screen) navigate(`/${home}`);
  }, [screen, home]);
  useEffect(() => {
    document.title = `${screen?.title ?? "Leadline"} · Leadline`;
    setMenuOpen(false);
  }, [route.path]);

  const toggleAvailable = async () => {
    await api.patch("/me", { body: { available: !state.me.available } });
    await state.refreshMe();
  };

  return (
    <div class="shell">
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById("main")?.focus(); }}>
        Skip to content
      </a>
      <header class="topbar">
        <button class="menu-button" type="button" aria-expanded={menuOpen} aria-controls="nav" onClick={() => setMenuOpen(!menuOpen)}>
          <Icon name="menu" label="Menu" />
        </button>
        <a class="brand" href={href(`/${home}`)}>Leadline</a>
        <nav id="nav" class={menuOpen ? "open" : ""} aria-label="Main">
          {screens.filter((s) => s.nav).map((s) => (
            <a key={s.path} href={href(`/${s.path}`)} aria-current={screen?.path === s.path ? "page" : undefined}>
              {s.title}
            </a>
          ))}
        </nav>
        <div class="topbar-tools">
          <label class="switch">
            <input type="checkbox" checked={state.me.available} onChange={() => void toggleAvailable()} />
            <span>{state.me.available ? "Available" : "Away"}</span>
          </label>
          <NotificationCentre live={live} />
          <span class="who" title={state.me.email}>{state.me.name}</span>
          <button type="button" class="link" onClick={signOut}>Sign out</button>
        </div>
      </header>
      <OffersPanel live={live} />
      {live.error ? <p class="error banner" role="alert">Live updates paused: {live.error}</p> : null}
      <main id="main" tabIndex={-1}>{screen ? screen.render(route, live) : null}</main>
    </div>
  );
}
