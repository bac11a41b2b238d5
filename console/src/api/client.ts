// The typed HTTP client: every call names a path of the generated OpenAPI types (schema.d.ts,
// made from the running app's /openapi.json), so a renamed route or field fails `tsc`.
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type Lead = Schemas["LeadResponse"];
export type LeadRow = Schemas["LeadRowResponse"];
export type Account = Schemas["AccountResponse"];
export type User = Schemas["UserResponse"];
export type Offer = Schemas["OfferResponse"];
export type Notification = Schemas["NotificationResponse"];
export type SavedReply = Schemas["SavedReplyResponse"];
export type Role = Schemas["Role"];
export type Me = Schemas["MeResponse"];
export type Membership = Schemas["MembershipResponse"];

type Method = "get" | "post" | "put" | "patch" | "delete";
type Json<C> = C extends { content: { "application/json": infer J } } ? J : null;
type Ok<O> = O extends { responses: infer R }
  ? R extends { 200: infer C } ? Json<C>
    : R extends { 201: infer C } ? Json<C>
      : R extends { 202: infer C } ? Json<C>
        : null
  : never;
type BodyOf<O> = O extends { requestBody?: { content: { "application/json": infer B } } } ? Partial<B> : never;
type QueryOf<O> = O extends { parameters: { query?: infer Q } } ? Q : never;
type PathOf<O> = O extends { parameters: { path: infer P } } ? P : never;
type PathsWith<M extends Method> = {
  [P in keyof paths]: paths[P] extends { [K in M]: infer O } ? (O extends undefined ? never : P) : never;
}[keyof paths];
type Op<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;

export interface CallOptions<O> {
  path?: PathOf<O>;
  query?: QueryOf<O>;
  body?: BodyOf<O>;
}

/** An error body of the contract ({"error": {code, message, details}}) or a network failure. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: { field: string; message: string }[] = [],
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }

  /** One sentence a person can act on, naming the fields the API named. */
  get explanation(): string {
    if (!this.details.length) return this.message;
    return this.details.map((d) => `${d.field}: ${d.message}`).join("; ");
  }
}

export interface ClientSettings {
  baseUrl: string;
  token: () => Promise<string | null>;
  onUnauthorized: () => void;
}

let settings: ClientSettings = { baseUrl: "", token: async () => null, onUnauthorized: () => undefined };

export function configureClient(next: ClientSettings): void {
  settings = next;
}

// Which of the person's groups every request acts in (`X-Leadline-Group`; none: their first
// group). Remembered for the browser tab's session, set here and nowhere else.
export const GROUP_HEADER = "X-Leadline-Group";
const GROUP_KEY = "leadline.group";
const groupListeners = new Set<() => void>();

export function currentGroup(): string | null {
  return sessionStorage.getItem(GROUP_KEY);
}

/** Acts in `groupId` from the next request on (null: the person's first group). */
export function setGroup(groupId: string | null): void {
  if (groupId === currentGroup()) return;
  if (groupId) sessionStorage.setItem(GROUP_KEY, groupId);
  else sessionStorage.removeItem(GROUP_KEY);
  for (const listener of groupListeners) listener();
}

export function onGroupChange(listener: () => void): () => void {
  groupListeners.add(listener);
  return () => groupListeners.delete(listener);
}

export function apiUrl(path: string): string {
  return settings.baseUrl + path;
}

function fill(template: string, params: Record<string, unknown> | undefined): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params?.[name];
    if (value === undefined || value === null) throw new Error(`missing path parameter ${name}`);
    return encodeURIComponent(String(value));
  });
}

function queryString(query: Record<string, unknown> | undefined): string {
  if (!query) return "";
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

export async function send(
  method: string,
  path: string,
  options: { body?: unknown; accept?: string; keepalive?: boolean } = {},
): Promise<Response> {
  const headers: Record<string, string> = { Accept: options.accept ?? "application/json" };
  const token = await settings.token();
  if (token) headers.Authorization = `Bearer ${token}`;
  const group = currentGroup();
  if (group) headers[GROUP_HEADER] = group;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  let reply: Response;
  try {
    reply = await fetch(apiUrl(path), {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      keepalive: options.keepalive,
    });
  } catch {
    throw new ApiError(0, "network", "The server cannot be reached; check the connection and try again.");
  }
  if (reply.status === 401 && group) return staleGroup(group, method, path, options);
  if (!reply.ok) throw await errorOf(reply);
  return reply;
}

/** A 401 while acting in a remembered group: the person has left it (or it never was theirs), so
 * the console falls back to their first group. A read is asked again there; a write is not (it was
 * meant for the other group) and fails with a sentence saying why. */
async function staleGroup(
  group: string,
  method: string,
  path: string,
  options: { body?: unknown; accept?: string; keepalive?: boolean },
): Promise<Response> {
  if (currentGroup() === group) setGroup(null);
  if (method === "GET") return send(method, path, options);
  throw new ApiError(401, "unauthorized", "You are no longer a member of that group: the console has switched to your first group.");
}

async function errorOf(reply: Response): Promise<ApiError> {
  if (reply.status === 401) settings.onUnauthorized();
  try {
    const body = (await reply.json()) as Schemas["ErrorResponse"] & Record<string, unknown>;
    const info = body.error;
    const extra = Object.fromEntries(Object.entries(info).filter(([k]) => !["code", "message", "details"].includes(k)));
    return new ApiError(reply.status, info.code, info.message, info.details ?? [], extra);
  } catch {
    return new ApiError(reply.status, "http_" + reply.status, `The server answered ${reply.status} ${reply.statusText}.`);
  }
}

async function call<P extends keyof paths, M extends Method>(
  method: M,
  path: P,
  options: CallOptions<Op<P, M>> = {},
): Promise<Ok<Op<P, M>>> {
  const url = fill(path as string, options.path as Record<string, unknown>) + queryString(options.query as Record<string, unknown>);
  const reply = await send(method.toUpperCase(), url, { body: options.body });
  if (reply.status === 204) return null as Ok<Op<P, M>>;
  const text = await reply.text();
  return (text ? JSON.parse(text) : null) as Ok<Op<P, M>>;
}

export const api = {
  get: <P extends PathsWith<"get">>(path: P, options?: CallOptions<Op<P, "get">>) => call("get", path, options),
  post: <P extends PathsWith<"post">>(path: P, options?: CallOptions<Op<P, "post">>) => call("post", path, options),
  put: <P extends PathsWith<"put">>(path: P, options?: CallOptions<Op<P, "put">>) => call("put", path, options),
  patch: <P extends PathsWith<"patch">>(path: P, options?: CallOptions<Op<P, "patch">>) => call("patch", path, options),
  delete: <P extends PathsWith<"delete">>(path: P, options?: CallOptions<Op<P, "delete">>) =>
    call("delete", path, options),
};

/** Every page of a cursor-paged list (for small lists such as stores and users). */
export async function allPages<T>(fetchPage: (cursor: string | undefined) => Promise<{ items: T[]; next_cursor: string | null }>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 50; page++) {
    const reply = await fetchPage(cursor);
    items.push(...reply.items);
    if (!reply.next_cursor) break;
    cursor = reply.next_cursor;
  }
  return items;
}

/** What a failed call tells the person. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.explanation;
  return error instanceof Error ? error.message : String(error);
}

/** The timeline's events (the API types them by `type`; the fields below are the ones the console reads). */
export interface TimelineEvent {
  event_id: string;
  type: string;
  at: string;
  by: string | null;
  message_id?: string;
  direction?: "inbound" | "outbound";
  channel?: string;
  body?: string;
  status?: string;
  automated?: boolean;
  send_at?: string | null;
  error?: string | null;
  subject?: string | null;
  sent_as?: string | null;
  cadence_id?: string | null;
  attachments?: { url?: string; content_type?: string; filename?: string }[];
  text?: string;
  note?: string;
  [key: string]: unknown;
}
