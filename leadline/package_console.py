"""The console's part of the packaged template, derived rather than written by hand.

infra/deploy.json holds the static pieces (the private bucket, CloudFront's origin access
control, the distribution, the Cognito hosted-UI domain and OAuth client settings, the
ConsoleUrl output). Derived here, because they follow the app and the shared policy:

- the distribution's response headers policy: the CSP of leadline/console_policy.py (the one
  the local stack sends) with the API and the Cognito hosted UI as the only other origins the
  page may call, HSTS, nosniff, frame DENY, a strict referrer policy;
- CORS for exactly the console's origin: API Gateway answers the preflight OPTIONS of every
  route itself (a mock integration, no Lambda call), its own error answers carry the header,
  and the functions learn the origin (LEADLINE_CONSOLE_ORIGIN) so the app's answers do too
  (chalicelib/handlers/http.py: console_cors)."""

from __future__ import annotations

from typing import Any

from leadline.console_policy import HSTS_SECONDS, content_security_policy

CONSOLE_ORIGIN = {"Fn::Sub": "https://${ConsoleDistribution.DomainName}"}
# The API's own id cannot be named here: the API's functions know the console's origin and the Cognito
# client returns to it, so a policy naming ${RestAPI} would close a dependency cycle. The page may call
# API Gateway in its own region, the hosted UI of its own pool, and nothing else.
API_ORIGIN = "https://*.execute-api.${AWS::Region}.${AWS::URLSuffix}"
COGNITO_ORIGIN = {"Fn::If": ["CreateUserPool",
                             {"Fn::Sub": "https://${UserPoolDomain}.auth.${AWS::Region}.amazoncognito.com"},
                             {"Ref": "CognitoHostedUiDomain"}]}
# The console uploads pictures straight to the media bucket (presigned POSTs; its CORS rule allows them).
MEDIA_ORIGINS = "https://${MediaBucket}.s3.${AWS::URLSuffix} https://${MediaBucket.RegionalDomainName}"
ALLOWED_METHODS = "GET,POST,PUT,PATCH,DELETE,OPTIONS"
ALLOWED_HEADERS = "Authorization,Content-Type,Accept,X-Leadline-Group"
PREFLIGHT_MAX_AGE = "600"


def headers_policy() -> dict[str, Any]:
    csp = content_security_policy(["${ApiOrigin}", "${CognitoOrigin}", "${MediaOrigins}"])
    return {"Type": "AWS::CloudFront::ResponseHeadersPolicy", "Properties": {"ResponseHeadersPolicyConfig": {
        "Name": {"Fn::Sub": "leadline-${Stage}-console-${AWS::Region}"},
        "Comment": "The console's security headers (leadline/console_policy.py)",
        "SecurityHeadersConfig": {
            "ContentSecurityPolicy": {"Override": True, "ContentSecurityPolicy": {"Fn::Sub": [csp, {
                "ApiOrigin": {"Fn::Sub": API_ORIGIN}, "CognitoOrigin": COGNITO_ORIGIN,
                "MediaOrigins": {"Fn::Sub": MEDIA_ORIGINS}}]}},
            "StrictTransportSecurity": {"Override": True, "AccessControlMaxAgeSec": HSTS_SECONDS,
                                        "IncludeSubdomains": True, "Preload": True},
            "ContentTypeOptions": {"Override": True},
            "FrameOptions": {"Override": True, "FrameOption": "DENY"},
            "ReferrerPolicy": {"Override": True, "ReferrerPolicy": "strict-origin-when-cross-origin"},
        },
    }}}


def _quoted(value: Any) -> Any:
    """A static header value as API Gateway wants it: in single quotes."""
    if isinstance(value, str):
        return f"'{value}'"
    return {"Fn::Sub": "'https://${ConsoleDistribution.DomainName}'"}


def preflight() -> dict[str, Any]:
    """An OPTIONS method answered by API Gateway for the console's origin alone."""
    headers = {"Access-Control-Allow-Origin": CONSOLE_ORIGIN, "Access-Control-Allow-Methods": ALLOWED_METHODS,
               "Access-Control-Allow-Headers": ALLOWED_HEADERS, "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
               "Vary": "Origin"}
    return {
        "consumes": ["application/json"], "produces": ["application/json"],
        "responses": {"200": {"description": "CORS preflight for the console",
                              "headers": {name: {"type": "string"} for name in headers}}},
        "x-amazon-apigateway-integration": {
            "type": "mock", "passthroughBehavior": "when_no_match",
            "requestTemplates": {"application/json": '{"statusCode": 200}'},
            "responses": {"default": {"statusCode": "200", "responseParameters": {
                f"method.response.header.{name}": _quoted(value) for name, value in headers.items()}}},
        },
    }


def console_cors_env() -> dict[str, Any]:
    return {"LEADLINE_CONSOLE_ORIGIN": CONSOLE_ORIGIN}


def add_console(template: dict[str, Any], paths: list[str]) -> None:
    """Add the derived console pieces to a merge template whose RestAPI part is already set."""
    resources = template["Resources"]
    resources["ConsoleHeadersPolicy"] = headers_policy()
    body = resources["RestAPI"]["Properties"]["DefinitionBody"]
    # Webhooks are called by providers' servers, never by a browser: no preflight for them.
    body["paths"] = {path: {"options": preflight()} for path in sorted(paths) if not path.startswith("/webhooks/")}
    origin_header = {"gatewayresponse.header.Access-Control-Allow-Origin": _quoted(CONSOLE_ORIGIN),
                     "gatewayresponse.header.Vary": "'Origin'"}
    for response in body.get("x-amazon-apigateway-gateway-responses", {}).values():
        response.setdefault("responseParameters", {}).update(origin_header)
