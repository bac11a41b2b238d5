// A disclosure of the header (the group switcher, the notification centre): a toggle button and,
// while open, a labelled popover under it. Escape, or an item calling `close`, closes it and gives
// the focus back to the toggle.
import type { ComponentChildren, JSX } from "preact";
import { useRef } from "preact/hooks";

type Props = {
  class: string;
  id: string;
  label: string;
  open: boolean;
  setOpen: (open: boolean) => void;
  toggleClass: string;
  toggle: ComponentChildren;
  children: (close: () => void) => ComponentChildren;
};

export function Popover({ class: className, id, label, open, setOpen, toggleClass, toggle, children }: Props): JSX.Element {
  const button = useRef<HTMLButtonElement>(null);
  const close = () => {
    setOpen(false);
    button.current?.focus();
  };
  return (
    <div class={className} onKeyDown={(e) => { if (e.key === "Escape" && open) close(); }}>
      <button ref={button} type="button" class={toggleClass} aria-expanded={open} aria-controls={id} onClick={() => setOpen(!open)}>
        {toggle}
      </button>
      {open ? (
        <section id={id} class="popover" aria-label={label}>
          {children(close)}
        </section>
      ) : null}
    </div>
  );
}
