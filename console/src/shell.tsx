// The signed-in shell: navigation, the offers and notification centre, the live poll, and the
// screen the hash route names. Screens for routes the API does not serve yet are simply absent
// from ROUTES (add one line here and one module under screens/ when they land). Loaded as its own
// chunk (app.tsx), so the sign-in form does not wait for every screen's code.
import type { JSX } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, currentGroup, onGroupChange, setGroup, type User } from "./api/client";
import { useDirectory } from "./directory";
import { firstScreenShown } from "./first_screen";
import { useLive, type LiveState } from "./live";
import { href, navigate, useRoute, type Route } from "./router";
import { signOut, takeSignedInUser } from "./session";
import { AppContext, isManager, type AppState } from "./state";
import { Loading } from "./ui/common";
import { GroupSwitcher } from "./ui/group_switcher";
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
  /** Renders before the stores and people have arrived (it asks for its own data meanwhile). */
  early?: boolean;
  allowed: (me: User) => boolean;
  render: (route: Route, live: LiveState) => JSX.Element;
}

const everyone = () => true;

const ROUTES: Screen[] = [
  { path: "inbox", title: "Inbox", nav: true, early: true, allowed: everyone, render: (route, live) => <Inbox route={route} pulse={live.pulse} /> },
  { path: "leads", title: "Conversation", nav: false, allowed: everyone, render: (route, live) => <Conversation leadId={route.parts[1] ?? ""} pulse={live.pulse} /> },
  { path: "overview", title: "Overview", nav: true, early: true, allowed: isManager, render: (route) => <Overview route={route} /> },
  { path: "dashboard", title: "Dashboard", nav: true, allowed: isManager, render: (route) => <Dashboard route={route} /> },
  { path: "response-time", title: "Response time", nav: true, allowed: isManager, render: (route) => <ResponseTime route={route} /> },
  { path: "lead-sources", title: "Lead sources", nav: true, allowed: isManager, render: (route) => <LeadSources route={route} /> },
  { path: "assistant", title: "Assistant", nav: true, allowed: isManager, render: (route) => <Assistant route={route} /> },
  { path: "files", title: "Nightly files", nav: true, allowed: isManager, render: (route) => <Files route={route} /> },
  { path: "settings", title: "Settings", nav: true, allowed: isManager, render: (route) => <Settings route={route} /> },
];

export function SignedIn(): JSX.Element {
  const [group, setGroupShown] = useState(currentGroup);
  const [first] = useState(takeSignedInUser);
  useEffect(() => onGroupChange(() => setGroupShown(currentGroup())), []);
  // One session per group: switching remounts every screen, so each asks for its data again.
  return <GroupSession key={group ?? ""} first={group ? null : first} />;
}

function GroupSession({ first }: { first: User | null }): JSX.Element {
  const directory = useDirectory(first);
  const { me, accounts, users } = directory;
  if (directory.error) {
    return (
      <main class="signin">
        <p class="error" role="alert">{directory.error}</p>
        <button type="button" onClick={signOut}>Sign out</button>
      </main>
    );
  }
  if (!me) return <p class="muted" role="status">Loading…</p>;
  const people = new Map(users ?? []);
  if (!people.has(me.user_id)) people.set(me.user_id, me);
  const state: AppState = {
    me,
    groups: directory.groups,
    accounts: accounts ?? new Map(),
    users: people,
    loaded: { accounts: accounts !== null, users: users !== null },
    refreshMe: directory.refreshMe,
    refreshDirectory: directory.refreshDirectory,
  };
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
  const named = screens.find((s) => s.path === route.parts[0]);
  // A path that names no screen the user may open shows the home screen at once (its data is asked
  // for in this render, not after the hash changes) while the address catches up.
  const screen = named ?? screens.find((s) => s.path === home)!;
  const ready = screen.early || (state.loaded.accounts && state.loaded.users);

  useEffect(() => {
    if (!named) navigate(`/${home}`);
  }, [named, home]);
  useEffect(() => {
    // Only the early screens say when their data is in; any other screen waits for everything.
    if (!screen.early) firstScreenShown();
  }, [screen]);
  useEffect(() => {
    document.title = `${screen.title} · Leadline`;
    setMenuOpen(false);
  }, [route.path]);

  const toggleAvailable = async () => {
    await api.patch("/me", { body: { available: !state.me.available } });
    await state.refreshMe();
  };
  const switchGroup = (groupId: string) => {
    // The same screen in the other group, without this group's filters (its stores' ids); a lead
    // belongs to one group, so from a conversation the switch goes home.
    navigate(screen.path === "leads" ? "/" : `/${screen.path}`);
    setGroup(groupId);
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
            <a key={s.path} href={href(`/${s.path}`)} aria-current={screen.path === s.path ? "page" : undefined}>
              {s.title}
            </a>
          ))}
        </nav>
        <div class="topbar-tools">
          <GroupSwitcher groups={state.groups} current={state.me.group_id} onSwitch={switchGroup} />
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
      <main id="main" tabIndex={-1}>{ready ? screen.render(route, live) : <Loading what="your stores" />}</main>
    </div>
  );
}
