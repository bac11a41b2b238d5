// Small inline SVG icons (no icon font, no external request). Decorative unless given a label.
import type { JSX } from "preact";

const PATHS: Record<string, string> = {
  sms: "M4 4h16v12H7l-3 3z",
  messenger: "M12 3C7 3 3 6.6 3 11c0 2.5 1.3 4.7 3.3 6.1V21l3.2-1.8c.8.2 1.6.3 2.5.3 5 0 9-3.6 9-8S17 3 12 3zm1 10.5-2.3-2.4L6.5 13.5l4.7-5 2.3 2.4 4.2-2.4z",
  web: "M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zm0 2c1 1.3 1.8 3 2.1 5H9.9C10.2 8 11 6.3 12 5zM5.3 14a7 7 0 0 1 0-4h2.6a15 15 0 0 0 0 4zm.9 2h2.3c.4 1.2.9 2.3 1.6 3.2A7 7 0 0 1 6.2 16zm3.7-2a13 13 0 0 1 0-4h4.2a13 13 0 0 1 0 4zm4.3 5.2c.7-.9 1.2-2 1.6-3.2h2.3a7 7 0 0 1-3.9 3.2zM16.1 14a15 15 0 0 0 0-4h2.6a7 7 0 0 1 0 4z",
  email: "M3 5h18v14H3zm2 2v.5l7 4.5 7-4.5V7zm0 2.9V17h14V9.9l-7 4.5z",
  phone: "M6.6 10.8a15 15 0 0 0 6.6 6.6l2.2-2.2c.3-.3.7-.4 1-.2 1.1.4 2.3.6 3.6.6.6 0 1 .4 1 1V20c0 .6-.4 1-1 1A17 17 0 0 1 3 4c0-.6.4-1 1-1h3.5c.6 0 1 .4 1 1 0 1.3.2 2.5.6 3.6.1.3 0 .7-.2 1z",
  lock: "M7 10V7a5 5 0 0 1 10 0v3h1v11H6V10zm2 0h6V7a3 3 0 0 0-6 0z",
  bell: "M12 22a2 2 0 0 0 2-2h-4a2 2 0 0 0 2 2zm6-6V11a6 6 0 0 0-5-5.9V4a1 1 0 0 0-2 0v1.1A6 6 0 0 0 6 11v5l-2 2v1h16v-1z",
  menu: "M3 6h18v2H3zm0 5h18v2H3zm0 5h18v2H3z",
  back: "M15.4 7.4 14 6l-6 6 6 6 1.4-1.4L10.8 12z",
};

export function Icon({ name, label, size = 18 }: { name: string; label?: string; size?: number }): JSX.Element {
  const path = PATHS[name] ?? PATHS.web!;
  return (
    <svg class="icon" width={size} height={size} viewBox="0 0 24 24" role={label ? "img" : undefined} aria-hidden={label ? undefined : "true"} aria-label={label} focusable="false">
      {label ? <title>{label}</title> : null}
      <path d={path} fill="currentColor" />
    </svg>
  );
}
