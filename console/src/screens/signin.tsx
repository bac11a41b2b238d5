import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { ErrorNote, Field, useAction } from "../ui/common";
import { signInLocally, signInWithCognito, usesCognito } from "../session";

export function SignIn(): JSX.Element {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const action = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(() => signInLocally(email.trim(), password));
  };
  return (
    <main class="signin">
      <h1>Leadline</h1>
      {usesCognito() ? (
        <div class="card">
          <p>Sign in with your Leadline account.</p>
          <button class="primary" type="button" onClick={() => void action.run(signInWithCognito)}>
            Sign in
          </button>
          <ErrorNote error={action.error} />
        </div>
      ) : (
        <form class="card" onSubmit={submit} aria-label="Sign in">
          <Field label="Email">
            {(id) => <input id={id} type="email" autocomplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />}
          </Field>
          <Field label="Password" hint="The local stack prints the demo password when it starts (make run).">
            {(id) => <input id={id} type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />}
          </Field>
          <ErrorNote error={action.error} />
          <button class="primary" type="submit" disabled={action.busy}>
            {action.busy ? "Signing in…" : "Sign in"}
          </button>
        </form>
      )}
    </main>
  );
}
