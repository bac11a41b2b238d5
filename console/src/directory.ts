// What the signed-in shell loads for the group it acts in: who I am there (GET /me, with my
// groups), the stores and the people I may see. The first screen does not wait for them: it starts
// with the user the sign-in answered with (after a reload, with /me's answer) and asks for its own
// data at once, beside the stores; the people (and /me, when the sign-in named the user) follow
// once that screen has shown its data (first_screen.ts).
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { allPages, api, describeError, type Account, type Membership, type User } from "./api/client";
import { afterFirstScreen } from "./first_screen";

export interface Directory {
  me: User | null;
  groups: Membership[];
  accounts: Map<string, Account> | null;
  users: Map<string, User> | null;
  error: string | null;
  refreshMe: () => Promise<void>;
  refreshDirectory: () => Promise<void>;
}

type Loaded = Omit<Directory, "refreshMe" | "refreshDirectory">;

// GET /accounts and /users answer the generic Page schema: the items are these records.
const stores = () =>
  allPages<Account>(async (cursor) => (await api.get("/accounts", { query: { limit: "200", cursor } })) as { items: Account[]; next_cursor: string | null });
const people = () =>
  allPages<User>(async (cursor) => (await api.get("/users", { query: { limit: "200", cursor } })) as { items: User[]; next_cursor: string | null })
    .catch(() => [] as User[]);

/** The directory of the current group, loaded once on mount (the shell mounts one per group). */
export function useDirectory(first: User | null): Directory {
  const [loaded, setLoaded] = useState<Loaded>({ me: first, groups: [], accounts: null, users: null, error: null });
  const mounted = useRef(true);
  const update = (change: Partial<Loaded>) => {
    if (mounted.current) setLoaded((previous) => ({ ...previous, ...change }));
  };
  const failed = (reason: unknown) => update({ error: describeError(reason) });

  const refreshMe = () => api.get("/me").then((me) => update({ me, groups: me.groups }), failed);
  const refreshDirectory = async () => {
    // After a reload nothing is shown before /me answers: then all three go at once.
    const later = loaded.me ? afterFirstScreen() : Promise.resolve();
    await Promise.all([
      later.then(refreshMe),
      stores().then((list) => update({ accounts: new Map(list.map((a) => [a.account_id, a])) }), failed),
      later.then(people).then((list) => update({ users: new Map(list.map((u) => [u.user_id, u])) })),
    ]);
  };
  useLayoutEffect(() => {
    // A layout effect: asked for as the shell goes into the page, not after its first paint.
    mounted.current = true;
    void refreshDirectory();
    return () => {
      mounted.current = false;
    };
  }, []);
  return { ...loaded, refreshMe, refreshDirectory };
}
