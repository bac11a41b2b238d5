// The console's root: the sign-in form, or the signed-in shell. The shell (every screen) is its own
// chunk, preloaded by index.html (vite.config.ts), so the sign-in form shows without waiting for it
// and the shell is compiled while the person types.
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { onSessionChange, signedIn } from "./session";
import { SignIn } from "./screens/signin";

type Shell = typeof import("./shell");
const loading: Promise<Shell> = import("./shell");

export function App(): JSX.Element {
  const [, setVersion] = useState(0);
  const [shell, setShell] = useState<Shell | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  useEffect(() => onSessionChange(() => setVersion((v) => v + 1)), []);
  useEffect(() => {
    loading.then(setShell, (error: unknown) => setFailed(error instanceof Error ? error.message : String(error)));
  }, []);
  if (!signedIn()) return <SignIn />;
  if (failed) return <p class="error" role="alert">The console cannot start: {failed}</p>;
  return shell ? <shell.SignedIn /> : <p class="muted" role="status">Loading…</p>;
}
