// Settings: stores (with business hours and holidays), routing, response targets and users for
// admins; cadences and saved replies for managers too (the API lets managers change those).
import type { JSX } from "preact";
import { href, type Route } from "../router";
import { isAdmin, useApp } from "../state";
import { Cadences } from "./cadences";
import { Routing } from "./routing";
import { SavedReplies } from "./saved_replies";
import { Stores } from "./stores";
import { ResponseTargets } from "./targets";
import { Users } from "./users";

const anyManager = () => true; // the Settings screen itself is for managers and up (shell.tsx)

const TABS = [
  { id: "stores", title: "Stores", allowed: isAdmin, render: (route: Route) => <Stores route={route} /> },
  { id: "routing", title: "Routing", allowed: isAdmin, render: (route: Route) => <Routing route={route} /> },
  { id: "targets", title: "Response targets", allowed: isAdmin, render: (route: Route) => <ResponseTargets route={route} /> },
  { id: "cadences", title: "Cadences", allowed: anyManager, render: (route: Route) => <Cadences route={route} /> },
  { id: "replies", title: "Saved replies", allowed: anyManager, render: (route: Route) => <SavedReplies route={route} /> },
  { id: "users", title: "Users", allowed: isAdmin, render: () => <Users /> },
];

export function Settings({ route }: { route: Route }): JSX.Element {
  const { me } = useApp();
  const tabs = TABS.filter((t) => t.allowed(me));
  const tab = tabs.find((t) => t.id === route.parts[1]) ?? tabs[0]!;
  return (
    <section class="settings">
      <h1>Settings</h1>
      <nav class="tabs" aria-label="Settings">
        {tabs.map((t) => (
          <a key={t.id} href={href(`/settings/${t.id}`)} aria-current={t.id === tab.id ? "page" : undefined}>{t.title}</a>
        ))}
      </nav>
      {tab.render(route)}
    </section>
  );
}
