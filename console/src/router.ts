// Hash routes (`#/inbox?folder=hot`): the API owns every real path on the local port, the console
// owns the fragment, so the two never collide and the static server needs no fallback rules.
import { useEffect, useState } from "preact/hooks";

export interface Route {
  path: string;
  parts: string[];
  query: URLSearchParams;
}

function current(): Route {
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path = "/", search = ""] = raw.split("?", 2);
  return { path, parts: path.split("/").filter(Boolean), query: new URLSearchParams(search) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const update = () => setRoute(current());
    addEventListener("hashchange", update);
    return () => removeEventListener("hashchange", update);
  }, []);
  return route;
}

export function href(path: string, query: Record<string, string | undefined | null> = {}): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value) search.set(key, value);
  const text = search.toString();
  return `#${path}${text ? `?${text}` : ""}`;
}

export function navigate(path: string, query: Record<string, string | undefined | null> = {}): void {
  location.hash = href(path, query);
}
