// Who is signed in, and how. Locally: an email and the demo password `leadline local` prints
// (POST /auth/local/sign-in). Deployed: Cognito's hosted UI with PKCE (config.json, written by
// `leadline console publish`), access tokens refreshed before they expire, sign-out at Cognito too.
import { api, configureClient, send, setGroup, type User } from "./api/client";

export interface CognitoConfig {
  domain: string; // https://<prefix>.auth.<region>.amazoncognito.com
  clientId: string;
}

export interface ConsoleConfig {
  apiBaseUrl: string;
  cognito: CognitoConfig | null;
}

interface Stored {
  token: string;
  expiresAt: number; // ms since epoch
  refreshToken?: string;
}

const KEY = "leadline.session";
const VERIFIER = "leadline.pkce";
const REFRESH_MARGIN_MS = 5 * 60 * 1000;

let config: ConsoleConfig = { apiBaseUrl: "", cognito: null };
let stored: Stored | null = null;
let refreshing: Promise<string | null> | null = null;
// The user the sign-in answered with: the shell starts the first screen with it instead of waiting
// for GET /me (which it still asks, for the person's groups).
let signedInAs: User | null = null;
const listeners = new Set<() => void>();

export function onSessionChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function changed(): void {
  for (const listener of listeners) listener();
}

function save(next: Stored | null): void {
  stored = next;
  if (next) localStorage.setItem(KEY, JSON.stringify(next));
  else {
    localStorage.removeItem(KEY);
    signedInAs = null;
    setGroup(null);
  }
  changed();
}

/** A fresh sign-in acts in the person's first group, whatever this tab chose before. */
function signedInAnew(next: Stored, user: User | null): void {
  setGroup(null);
  signedInAs = user;
  save(next);
}

/** The user the sign-in just answered with, once (null after a reload: GET /me tells). */
export function takeSignedInUser(): User | null {
  const user = signedInAs;
  signedInAs = null;
  return user;
}

function expiryOf(token: string): number {
  try {
    const payload = JSON.parse(atob(token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))) as { exp?: number };
    return (payload.exp ?? 0) * 1000;
  } catch {
    return 0;
  }
}

/** Reads config.json (deployed) or falls back to the local stack's same-origin API. */
export async function loadConfig(): Promise<ConsoleConfig> {
  try {
    // The response index.html preloads (the same request: cached only to revalidate, locally and on CloudFront).
    const reply = await fetch("/config.json");
    if (reply.ok && (reply.headers.get("content-type") ?? "").includes("json")) {
      const body = (await reply.json()) as Partial<ConsoleConfig>;
      if (typeof body.apiBaseUrl === "string") config = { apiBaseUrl: body.apiBaseUrl.replace(/\/$/, ""), cognito: body.cognito ?? null };
    }
  } catch {
    // No config.json: the local stack serves the console beside its API.
  }
  configureClient({ baseUrl: config.apiBaseUrl, token: currentToken, onUnauthorized: () => save(null) });
  const raw = localStorage.getItem(KEY);
  if (raw) {
    try {
      stored = JSON.parse(raw) as Stored;
    } catch {
      stored = null;
    }
  }
  if (config.cognito) await finishHostedSignIn(config.cognito);
  return config;
}

export function usesCognito(): boolean {
  return config.cognito !== null;
}

export function signedIn(): boolean {
  return stored !== null && (stored.expiresAt > Date.now() || Boolean(stored.refreshToken));
}

async function currentToken(): Promise<string | null> {
  if (!stored) return null;
  if (stored.expiresAt - Date.now() > REFRESH_MARGIN_MS || !stored.refreshToken || !config.cognito) {
    return stored.expiresAt > Date.now() ? stored.token : null;
  }
  refreshing ??= refresh(config.cognito, stored.refreshToken).finally(() => {
    refreshing = null;
  });
  return refreshing;
}

export async function signInLocally(email: string, password: string): Promise<User> {
  setGroup(null);
  const reply = await api.post("/auth/local/sign-in", { body: { email, password } });
  signedInAnew({ token: reply.token, expiresAt: expiryOf(reply.token) }, reply.user);
  return reply.user;
}

export function signOut(): void {
  save(null);
  if (config.cognito) {
    const url = new URL(`${config.cognito.domain}/logout`);
    url.searchParams.set("client_id", config.cognito.clientId);
    url.searchParams.set("logout_uri", location.origin + "/");
    location.assign(url.toString());
  }
}

// -- Cognito hosted UI (authorization code + PKCE) ---------------------------------------------

function base64url(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export async function signInWithCognito(): Promise<void> {
  const cognito = config.cognito;
  if (!cognito) throw new Error("Cognito is not configured for this console");
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  sessionStorage.setItem(VERIFIER, verifier);
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
  const url = new URL(`${cognito.domain}/oauth2/authorize`);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", cognito.clientId);
  url.searchParams.set("redirect_uri", location.origin + "/");
  url.searchParams.set("scope", "openid email");
  url.searchParams.set("code_challenge_method", "S256");
  url.searchParams.set("code_challenge", challenge);
  location.assign(url.toString());
}

interface TokenReply {
  access_token: string;
  expires_in: number;
  refresh_token?: string;
}

async function tokenCall(cognito: CognitoConfig, form: Record<string, string>): Promise<TokenReply> {
  const reply = await fetch(`${cognito.domain}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ client_id: cognito.clientId, ...form }).toString(),
  });
  if (!reply.ok) throw new Error(`Cognito refused the sign-in (${reply.status}); sign in again.`);
  return (await reply.json()) as TokenReply;
}

async function finishHostedSignIn(cognito: CognitoConfig): Promise<void> {
  const params = new URLSearchParams(location.search);
  const code = params.get("code");
  const verifier = sessionStorage.getItem(VERIFIER);
  if (!code || !verifier) return;
  sessionStorage.removeItem(VERIFIER);
  history.replaceState(null, "", location.pathname + location.hash);
  const reply = await tokenCall(cognito, {
    grant_type: "authorization_code",
    code,
    redirect_uri: location.origin + "/",
    code_verifier: verifier,
  });
  signedInAnew({ token: reply.access_token, expiresAt: Date.now() + reply.expires_in * 1000, refreshToken: reply.refresh_token }, null);
}

async function refresh(cognito: CognitoConfig, refreshToken: string): Promise<string | null> {
  try {
    const reply = await tokenCall(cognito, { grant_type: "refresh_token", refresh_token: refreshToken });
    save({ token: reply.access_token, expiresAt: Date.now() + reply.expires_in * 1000, refreshToken });
    return reply.access_token;
  } catch {
    save(null);
    return null;
  }
}

/** Releases a lead's lock as the page goes away (fetch with keepalive outlives the page). */
export function releaseOnExit(path: string): void {
  void send("DELETE", path, { keepalive: true }).catch(() => undefined);
}
