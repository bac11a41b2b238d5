// Dates and times in the store's own time zone; durations as people say them.

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string | undefined, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${timeZone ?? ""}|${JSON.stringify(options)}`;
  let found = formatters.get(key);
  if (!found) {
    found = new Intl.DateTimeFormat(undefined, { ...options, timeZone });
    formatters.set(key, found);
  }
  return found;
}

export function dateTime(iso: string | null | undefined, timeZone?: string): string {
  if (!iso) return "";
  return formatter(timeZone, { year: "numeric", month: "short", day: "numeric", hour: "numeric", minute: "2-digit", timeZoneName: "short" }).format(new Date(iso));
}

/** Today: the time; this year: month, day and time; older: the date. */
export function shortTime(iso: string | null | undefined, timeZone?: string, now = Date.now()): string {
  if (!iso) return "";
  const at = new Date(iso);
  const day = formatter(timeZone, { year: "numeric", month: "2-digit", day: "2-digit" });
  if (day.format(at) === day.format(now)) return formatter(timeZone, { timeStyle: "short" }).format(at);
  if (now - at.getTime() < 300 * 86400_000) return formatter(timeZone, { month: "short", day: "numeric", hour: "numeric", minute: "2-digit" }).format(at);
  return formatter(timeZone, { dateStyle: "medium" }).format(at);
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "–";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.round((s % 86400) / 3600)} h`;
}

export function waiting(since: string, now = Date.now()): string {
  return `waiting ${duration((now - new Date(since).getTime()) / 1000)}`;
}

/** "due in 4 min", or "overdue 2 min" once the time has passed. */
export function dueIn(at: string, now = Date.now()): string {
  const seconds = (new Date(at).getTime() - now) / 1000;
  return seconds >= 0 ? `due in ${duration(seconds)}` : `overdue ${duration(-seconds)}`;
}

export function countdown(until: string, now = Date.now()): string {
  const s = Math.max(0, Math.ceil((new Date(until).getTime() - now) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** A ratio 0..1 (the reports' `*_rate`) as a percentage. */
export function percent(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined) return "–";
  return `${Math.round(ratio * 1000) / 10}%`;
}

/** A percentage the API already made (the reports' `*_pct`, 0..100 with one decimal). */
export function pct(value: number | null | undefined): string {
  return value === null || value === undefined ? "–" : `${value}%`;
}

/** YYYY-MM-DD of a day `daysAgo` before today, in the browser's zone (report ranges are dates). */
export function isoDay(daysAgo = 0): string {
  const d = new Date(Date.now() - daysAgo * 86400_000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

/** A wall-clock time typed for a store (datetime-local value) as an ISO instant with that zone's offset. */
export function zonedToIso(local: string, timeZone: string): string {
  const guess = new Date(`${local}:00Z`);
  const parts = formatter(timeZone, { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }).formatToParts(guess);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asZone = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return new Date(guess.getTime() - (asZone - guess.getTime())).toISOString();
}

export const label = (text: string) => text.replace(/_/g, " ");
