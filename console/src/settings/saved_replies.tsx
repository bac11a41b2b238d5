// Saved replies of a store: add, change, delete (smart fields such as {{lead.first_name}} allowed).
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { api, type Account, type SavedReply } from "../api/client";
import { type Route } from "../router";
import { ErrorNote, Field, useAction } from "../ui/common";
import { PerStore } from "./stores";

export function SavedReplies({ route }: { route: Route }): JSX.Element {
  const load = async (store: Account) => (await api.get("/accounts/{account_id}/saved-replies", { path: { account_id: store.account_id } })).items;
  return (
    <PerStore route={route} base="/settings/replies" what="saved replies" load={load}>
      {(store, replies, reload) => (
        <>
          <ul class="cards">
            {replies.map((r) => <ReplyForm key={r.saved_reply_id} reply={r} onDone={reload} />)}
          </ul>
          <h2>New saved reply</h2>
          <ReplyForm accountId={store.account_id} onDone={reload} />
        </>
      )}
    </PerStore>
  );
}

function ReplyForm({ reply, accountId, onDone }: { reply?: SavedReply; accountId?: string; onDone: () => void }): JSX.Element {
  const [title, setTitle] = useState(reply?.title ?? "");
  const [body, setBody] = useState(reply?.body ?? "");
  const action = useAction();
  const save = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      if (reply) await api.patch("/saved-replies/{saved_reply_id}", { path: { saved_reply_id: reply.saved_reply_id }, body: { title, body } });
      else if (accountId) {
        await api.post("/accounts/{account_id}/saved-replies", { path: { account_id: accountId }, body: { title, body } });
        setTitle("");
        setBody("");
      }
      onDone();
    });
  };
  const remove = () => reply && void action.run(async () => {
    await api.delete("/saved-replies/{saved_reply_id}", { path: { saved_reply_id: reply.saved_reply_id } });
    onDone();
  });
  const Wrap = reply ? "li" : "div";
  return (
    <Wrap class="card">
      <form onSubmit={save} aria-label={reply ? `Saved reply ${reply.title}` : "New saved reply"}>
        <Field label="Title">{(id) => <input id={id} required value={title} onInput={(e) => setTitle(e.currentTarget.value)} />}</Field>
        <Field label="Text" hint="Smart fields: {{lead.first_name}}, {{account.name}}, {{account.address}}, {{agent.name}}…">
          {(id) => <textarea id={id} required rows={3} value={body} onInput={(e) => setBody(e.currentTarget.value)} />}
        </Field>
        <ErrorNote error={action.error} />
        <div class="row">
          <button type="submit" class={reply ? "" : "primary"} disabled={action.busy}>{reply ? "Save" : "Add saved reply"}</button>
          {reply ? <button type="button" class="danger" onClick={() => confirm(`Delete “${reply.title}”?`) && remove()}>Delete</button> : null}
        </div>
      </form>
    </Wrap>
  );
}
