// What every screen reads: the signed-in user, the groups they may switch to, the stores and the
// people they may see (directory.ts loads them).
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Account, Membership, Role, User } from "./api/client";

export interface AppState {
  me: User;
  /** Every group the person belongs to (empty until GET /me answers). */
  groups: Membership[];
  accounts: Map<string, Account>;
  users: Map<string, User>;
  /** Whether `accounts` / `users` hold the answers yet (screens marked early render before). */
  loaded: { accounts: boolean; users: boolean };
  refreshMe: () => Promise<void>;
  refreshDirectory: () => Promise<void>;
}

export const AppContext = createContext<AppState | null>(null);

export function useApp(): AppState {
  const state = useContext(AppContext);
  if (!state) throw new Error("useApp outside the signed-in shell");
  return state;
}

const RANK: Record<Role, number> = { agent: 0, manager: 1, admin: 2, group_admin: 3 };

export function isManager(me: User): boolean {
  return RANK[me.role] >= RANK.manager;
}

export function isAdmin(me: User): boolean {
  return RANK[me.role] >= RANK.admin;
}

export function personName(state: AppState, userId: string | null | undefined): string {
  if (!userId) return "";
  if (userId === state.me.user_id) return "you";
  return state.users.get(userId)?.name ?? "a colleague";
}

export function timezoneOf(state: AppState, accountId: string | null | undefined): string | undefined {
  return accountId ? state.accounts.get(accountId)?.timezone : undefined;
}
