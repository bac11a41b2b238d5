// The group switcher, for a person in several groups (GET /me lists them): the current group's
// name opens the list; picking one makes every later request act there (api/client.ts sets the
// header) and the shell reloads for it. A Popover: Tab reaches every group, Escape closes.
import type { JSX } from "preact";
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import type { Membership } from "../api/client";
import { label } from "../format";
import { Popover } from "./popover";

export function GroupSwitcher({ groups, current, onSwitch }: { groups: Membership[]; current: string; onSwitch: (groupId: string) => void }): JSX.Element | null {
  const [open, setOpen] = useState(false);
  const list = useRef<HTMLUListElement>(null);
  // In the same task as the key or click that opened the list, so the next key press starts there.
  useLayoutEffect(() => {
    if (open) list.current?.querySelector<HTMLButtonElement>("button[aria-current]")?.focus();
  }, [open]);
  if (groups.length < 2) return null;
  const here = groups.find((g) => g.group_id === current) ?? groups[0]!;
  const toggle = (
    <>
      <span class="visually-hidden">Group: </span>
      <span class="group-name">{here.group_name}</span>
      <span aria-hidden="true">▾</span>
    </>
  );
  return (
    <Popover class="groups" id="group-list" label="Switch group" open={open} setOpen={setOpen} toggleClass="group-toggle" toggle={toggle}>
      {(close) => (
        <>
          <h2>Switch group</h2>
          <ul ref={list}>
            {groups.map((g) => (
              <li key={g.group_id}>
                <button type="button" aria-current={g.group_id === here.group_id ? "true" : undefined}
                  onClick={() => { close(); if (g.group_id !== here.group_id) onSwitch(g.group_id); }}>
                  <strong>{g.group_name}</strong>
                  <small class="muted">{label(g.role)}{g.group_id === here.group_id ? " · current" : ""}</small>
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </Popover>
  );
}
