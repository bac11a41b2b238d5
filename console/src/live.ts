// Live updates without a reload: one cheap poll (pending offers + newest notifications) every few
// seconds; something new rings a short tone, shows a browser notification when permitted and
// flashes the title while the tab is hidden.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { api, type Notification, type Offer } from "./api/client";
import { afterFirstScreen } from "./first_screen";

export const LIVE_POLL_MS = 3000;

export interface LiveState {
  offers: Offer[];
  notifications: Notification[];
  unread: number;
  /** Bumped when something new arrived: screens that show leads reload on it. */
  pulse: number;
  error: string | null;
  refresh: () => void;
}

let audio: AudioContext | null = null;

export function chime(): void {
  try {
    audio ??= new AudioContext();
    const now = audio.currentTime;
    for (const [i, freq] of [880, 1320].entries()) {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, now + i * 0.15);
      gain.gain.exponentialRampToValueAtTime(0.2, now + i * 0.15 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.15 + 0.14);
      tone.connect(gain).connect(audio.destination);
      tone.start(now + i * 0.15);
      tone.stop(now + i * 0.15 + 0.15);
    }
  } catch {
    // No audio output (or the browser has not allowed sound before a click): the other signals remain.
  }
}

let flashTimer: number | undefined;
const baseTitle = document.title;

function flashTitle(text: string): void {
  if (!document.hidden) return;
  clearInterval(flashTimer);
  let on = false;
  flashTimer = window.setInterval(() => {
    on = !on;
    document.title = on ? `● ${text}` : baseTitle;
  }, 1000);
  const stop = () => {
    if (document.hidden) return;
    clearInterval(flashTimer);
    document.title = baseTitle;
    document.removeEventListener("visibilitychange", stop);
  };
  document.addEventListener("visibilitychange", stop);
}

function announce(title: string, body: string): void {
  chime();
  flashTitle(title);
  if ("Notification" in window && Notification.permission === "granted" && document.hidden) {
    new Notification(title, { body, tag: "leadline" });
  }
}

export function useLive(): LiveState {
  const [state, setState] = useState<Omit<LiveState, "refresh">>({ offers: [], notifications: [], unread: 0, pulse: 0, error: null });
  const seen = useRef<{ offers: Set<string>; notes: Set<string>; first: boolean }>({ offers: new Set(), notes: new Set(), first: true });
  const [tick, setTick] = useState(0);

  useEffect(() => {
    let stopped = false;
    let timer: number | undefined;
    const poll = async () => {
      try {
        const [offers, notes] = await Promise.all([api.get("/me/offers"), api.get("/me/notifications")]);
        if (stopped) return;
        const known = seen.current;
        const newOffers = offers.items.filter((o) => !known.offers.has(o.offer_id));
        const newNotes = notes.items.filter((n) => !n.read && !known.notes.has(n.notification_id));
        offers.items.forEach((o) => known.offers.add(o.offer_id));
        notes.items.forEach((n) => known.notes.add(n.notification_id));
        const fresh = !known.first && (newOffers.length > 0 || newNotes.length > 0);
        if (fresh) {
          if (newOffers.length) announce("New lead offered", `${newOffers.length} new offer${newOffers.length > 1 ? "s" : ""} waiting for you`);
          else announce(newNotes[0]!.title || "Leadline", newNotes[0]!.body || newNotes[0]!.text);
        }
        known.first = false;
        setState((prev) => ({
          offers: offers.items,
          notifications: notes.items,
          unread: notes.items.filter((n) => !n.read).length,
          pulse: fresh ? prev.pulse + 1 : prev.pulse,
          error: null,
        }));
      } catch (error) {
        if (!stopped) setState((prev) => ({ ...prev, error: error instanceof Error ? error.message : String(error) }));
      }
      if (!stopped) timer = window.setTimeout(poll, LIVE_POLL_MS);
    };
    // The first poll waits for the first screen's data (first_screen.ts); later ones every 3 s.
    void afterFirstScreen().then(() => {
      if (!stopped) void poll();
    });
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [tick]);

  return { ...state, refresh: () => setTick((t) => t + 1) };
}

/** Re-runs `load` every `ms` while mounted (and at once when `deps` change: in a layout effect, so
 * the first request goes out as the screen is put in the page rather than after its first paint). */
export function usePoll(load: () => Promise<void> | void, ms: number, deps: unknown[]): void {
  useLayoutEffect(() => {
    let stopped = false;
    let timer: number | undefined;
    const run = async () => {
      try {
        await load();
      } finally {
        if (!stopped) timer = window.setTimeout(run, document.hidden ? ms * 3 : ms);
      }
    };
    void run();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, deps);
}
