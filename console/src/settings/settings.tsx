// Settings for admins: stores (with business hours and holidays), routing, saved replies, users.
// Response targets and cadences join as tabs when their routes land.
import type { JSX } from "preact";
import { href, type Route } from "../router";
import { Routing } from "./routing";
import { SavedReplies } from "./saved_replies";
import { Stores } from "./stores";
import { Users } from "./users";

const TABS = [
  { id: "stores", title: "Stores", render: (route: Route) => <Stores route={route} /> },
  { id: "routing", title: "Routing", render: (route: Route) => <Routing route={route} /> },
  { id: "replies", title: "Saved replies", render: (route: Route) => <SavedReplies route={route} /> },
  { id: "users", title: "Users", render: () => <Users /> },
];

export function Settings({ route }: { route: Route }): JSX.Element {
  const tab = TABS.find((t) => t.id === route.parts[1]) ?? TABS[0]!;
  return (
    <section class="settings">
      <h1>Settings</h1>
      <nav class="tabs" aria-label="Settings">
        {TABS.map((t) => (
          <a key={t.id} href={href(`/settings/${t.id}`)} aria-current={t.id === tab.id ? "page" : undefined}>{t.title}</a>
        ))}
      </nav>
      {tab.render(route)}
    </section>
  );
}
