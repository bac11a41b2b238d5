"""Fetching what a customer sent from the provider's media host (the MediaFetcher port): an MMS
picture from Twilio, a Messenger attachment from Meta's CDN.

Deployed, only the providers' own hosts are fetched (`Settings.media_fetch_hosts`), over HTTPS,
and Twilio's credentials go to Twilio's API host alone (never to the storage host it redirects
to); the local stack fetches any URL as given (`*`), so tests can serve pictures themselves.
Bodies are read up to a limit and no further."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from chalicelib.domain.messaging import SendFailed

TIMEOUT_SECONDS = 15
# Hosts that may see Twilio's account credentials (media URLs need them when the account enforces it).
TWILIO_API_HOSTS = ("api.twilio.com",)


class MediaTooLarge(Exception):
    pass


class HttpMediaFetcher:
    def __init__(self, allowed_hosts: tuple[str, ...], basic_auth: str | None = None) -> None:
        self.allowed_hosts = allowed_hosts
        self.basic_auth = basic_auth  # "Basic ..." for Twilio's API host

    def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        if "*" in self.allowed_hosts:
            return parts.scheme in ("http", "https") and bool(parts.hostname)
        host = (parts.hostname or "").lower()
        return parts.scheme == "https" and any(host == h or host.endswith("." + h) for h in self.allowed_hosts)

    def may_follow(self, url: str) -> bool:
        """A redirect's target: an allowed host, or the signed storage Twilio redirects media to."""
        if self.allowed(url):
            return True
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        return parts.scheme == "https" and host.endswith((".amazonaws.com", ".twilio.com", ".twiliocdn.com"))

    def fetch(self, url: str, max_bytes: int) -> tuple[bytes, str | None]:
        """The file and the type its server declared. SendFailed(permanent) for a host we do not fetch
        from or a refusal; MediaTooLarge past `max_bytes`; SendFailed for what a retry may fix."""
        if not self.allowed(url):
            raise SendFailed(f"media is only fetched from the providers' hosts, not {urlsplit(url).hostname}",
                             permanent=True)
        request = urllib.request.Request(url, method="GET")  # noqa: S310 (scheme and host checked above)
        if self.basic_auth and (urlsplit(url).hostname or "").lower() in TWILIO_API_HOSTS:
            request.add_unredirected_header("Authorization", self.basic_auth)
        opener = urllib.request.build_opener(_CheckedRedirects(self.may_follow))
        try:
            with opener.open(request, timeout=TIMEOUT_SECONDS) as resp:
                body = resp.read(max_bytes + 1)
                declared = resp.headers.get_content_type() if resp.headers.get("Content-Type") else None
        except urllib.error.HTTPError as exc:
            raise SendFailed(f"media fetch: HTTP {exc.code}", permanent=400 <= exc.code < 500 and exc.code != 429) \
                from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SendFailed(f"media fetch: {exc}") from exc
        if len(body) > max_bytes:
            raise MediaTooLarge(url)
        return body, declared


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to a host the fetcher may reach (checked before the request is made)."""

    def __init__(self, may_follow: Callable[[str], bool]) -> None:
        self.may_follow = may_follow

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
        if not self.may_follow(newurl):
            raise SendFailed(f"media redirected to an unexpected host {urlsplit(newurl).hostname}", permanent=True)
        return super().redirect_request(req, fp, code, msg, headers, newurl)
