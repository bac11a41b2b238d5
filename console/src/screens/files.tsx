// Nightly files: the CSVs the nightly job wrote for a day, with short-lived download links.
import type { JSX } from "preact";
import { api } from "../api/client";
import { isoDay } from "../format";
import { navigate, type Route } from "../router";
import { useApp } from "../state";
import { ErrorNote, Field, Loading, useAsync } from "../ui/common";

export function Files({ route }: { route: Route }): JSX.Element {
  const app = useApp();
  const date = route.query.get("date") ?? isoDay(1);
  const files = useAsync(() => api.get("/reports/files", { query: { date } }), [date]);
  return (
    <section class="report">
      <h1>Nightly files</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <Field label="Day">{(id) => <input id={id} type="date" value={date} max={isoDay(0)} onChange={(e) => navigate("/files", { date: e.currentTarget.value })} />}</Field>
      </form>
      <ErrorNote error={files.error} />
      {!files.data ? (files.error ? null : <Loading what="the files" />) : files.data.items.length === 0 ? (
        <p class="empty">No files for {date}. The nightly job writes them after each store's day ends.</p>
      ) : (
        <div class="table-wrap" tabIndex={0}>
          <table>
            <caption>Files of {date}</caption>
            <thead><tr><th scope="col">Store</th><th scope="col">File</th><th scope="col">Size</th></tr></thead>
            <tbody>
              {files.data.items.map((f) => (
                <tr key={f.key}>
                  <td>{app.accounts.get(f.account_id)?.name ?? f.account_id}</td>
                  <td><a href={f.url} download>{f.key.split("/").pop()}</a></td>
                  <td>{(f.bytes / 1024).toFixed(1)} KB</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
