// Users: invite, edit (role, stores, teams, restricted, notification channels), delete.
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { api, type Role, type User } from "../api/client";
import { label } from "../format";
import { useApp } from "../state";
import { Dialog, ErrorNote, Field, useAction } from "../ui/common";

const ROLES: Role[] = ["agent", "manager", "admin", "group_admin"];
const CHANNELS = ["in_app", "email", "sms"] as const;

export function Users(): JSX.Element {
  const app = useApp();
  const [editing, setEditing] = useState<User | "new" | null>(null);
  const users = [...app.users.values()].sort((a, b) => a.name.localeCompare(b.name));
  return (
    <div>
      <button class="primary" type="button" onClick={() => setEditing("new")}>Invite a user</button>
      <div class="table-wrap" tabIndex={0}>
        <table>
          <caption>People of your stores</caption>
          <thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Stores</th><th scope="col">Restricted</th><th scope="col">Alerts</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.user_id}>
                <th scope="row">{u.name}</th>
                <td>{u.email}</td>
                <td>{label(u.role)}</td>
                <td>{u.account_ids.map((id) => app.accounts.get(id)?.name ?? id).join(", ")}</td>
                <td>{u.restricted ? "yes" : "no"}</td>
                <td>{CHANNELS.filter((c) => u.notify[c]).map(label).join(", ") || "none"}</td>
                <td><button type="button" onClick={() => setEditing(u)} aria-label={`Edit ${u.name}`}>Edit</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Dialog title={editing === "new" ? "Invite a user" : `Edit ${editing?.name ?? ""}`} open={editing !== null} onClose={() => setEditing(null)}>
        {editing !== null ? <UserForm user={editing === "new" ? null : editing} close={() => setEditing(null)} /> : null}
      </Dialog>
    </div>
  );
}

function UserForm({ user, close }: { user: User | null; close: () => void }): JSX.Element {
  const app = useApp();
  const [name, setName] = useState(user?.name ?? "");
  const [email, setEmail] = useState(user?.email ?? "");
  const [phone, setPhone] = useState(user?.phone ?? "");
  const [role, setRole] = useState<Role>(user?.role ?? "agent");
  const [stores, setStores] = useState<string[]>(user?.account_ids ?? []);
  const [teams, setTeams] = useState((user?.teams ?? []).join(", "));
  const [restricted, setRestricted] = useState(user?.restricted ?? false);
  const [notify, setNotify] = useState({ in_app: user?.notify.in_app ?? true, email: user?.notify.email ?? false, sms: user?.notify.sms ?? false, forward_email: user?.notify.forward_email ?? null });
  const action = useAction();
  const save = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const body = { name, email, phone: phone || null, role, account_ids: stores, teams: teams.split(",").map((t) => t.trim()).filter(Boolean), restricted, notify };
      if (user) await api.patch("/users/{user_id}", { path: { user_id: user.user_id }, body });
      else await api.post("/users", { body });
      await app.refreshDirectory();
      close();
    });
  };
  const remove = () => user && void action.run(async () => {
    await api.delete("/users/{user_id}", { path: { user_id: user.user_id } });
    await app.refreshDirectory();
    close();
  });
  return (
    <form onSubmit={save}>
      <Field label="Name">{(id) => <input id={id} required value={name} onInput={(e) => setName(e.currentTarget.value)} />}</Field>
      <Field label="Email">{(id) => <input id={id} type="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />}</Field>
      <Field label="Mobile phone (E.164)">{(id) => <input id={id} type="tel" value={phone} onInput={(e) => setPhone(e.currentTarget.value)} />}</Field>
      <Field label="Role">
        {(id) => <select id={id} value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>{ROLES.map((r) => <option key={r} value={r}>{label(r)}</option>)}</select>}
      </Field>
      <fieldset>
        <legend>Stores</legend>
        {[...app.accounts.values()].map((a) => (
          <label key={a.account_id} class="check">
            <input type="checkbox" checked={stores.includes(a.account_id)} onChange={(e) => setStores(e.currentTarget.checked ? [...stores, a.account_id] : stores.filter((s) => s !== a.account_id))} />
            {a.name}
          </label>
        ))}
      </fieldset>
      <Field label="Teams (comma separated)">{(id) => <input id={id} value={teams} onInput={(e) => setTeams(e.currentTarget.value)} />}</Field>
      <label class="check"><input type="checkbox" checked={restricted} onChange={(e) => setRestricted(e.currentTarget.checked)} /> Restricted: sees only the leads assigned to them</label>
      <fieldset>
        <legend>Alerts by</legend>
        {CHANNELS.map((c) => (
          <label key={c} class="check"><input type="checkbox" checked={notify[c]} onChange={(e) => setNotify({ ...notify, [c]: e.currentTarget.checked })} /> {label(c)}</label>
        ))}
      </fieldset>
      <ErrorNote error={action.error} />
      <div class="row">
        <button class="primary" type="submit" disabled={action.busy}>{user ? "Save" : "Invite"}</button>
        <button type="button" onClick={close}>Cancel</button>
        {user && user.user_id !== app.me.user_id ? <button type="button" class="danger" onClick={() => confirm(`Delete ${user.name}? Their sign-in stops working at once.`) && remove()}>Delete user</button> : null}
      </div>
    </form>
  );
}
