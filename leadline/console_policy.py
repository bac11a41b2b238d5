"""The console's security headers, one definition for the local stack (leadline/local/console.py)
and the deployed CloudFront distribution (leadline/package_console.py): a page that breaks the
policy breaks locally first.

No inline script or style anywhere ('unsafe-inline' is never allowed); the page may only talk to
itself, the API and (deployed) Cognito's hosted UI; nobody may frame it."""

from __future__ import annotations

HSTS_SECONDS = 63072000  # two years, the preload list's minimum


def content_security_policy(connect: list[str]) -> str:
    """The CSP with `connect` (origins such as the API's) added to connect-src."""
    sources = " ".join(["'self'", *connect])
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: https:; "
        f"media-src 'self' data: blob:; font-src 'self'; connect-src {sources}; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


# Sent locally as they are; CloudFront's response headers policy says the same in its own terms.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}
