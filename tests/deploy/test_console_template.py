"""The console's deploy resources in the merge template: a private bucket behind CloudFront with
origin access control, HTTPS only, the shared security headers, and CORS for that origin alone."""

from __future__ import annotations

import json
from typing import Any

import pytest

from leadline.console_policy import HSTS_SECONDS
from leadline.package import AppShape, build_merge_template, function_environment

PATHS = ["/leads", "/leads/{lead_id}", "/me/offers", "/webhooks/twilio/sms"]


@pytest.fixture(scope="module")
def merged() -> dict[str, Any]:
    return build_merge_template("prod", AppShape(functions=["api_handler"], paths=PATHS))


def test_distribution_serves_the_private_bucket_over_https_only(merged: dict[str, Any]) -> None:
    resources = merged["Resources"]
    config = resources["ConsoleDistribution"]["Properties"]["DistributionConfig"]
    origin = config["Origins"][0]
    assert origin["DomainName"] == {"Fn::GetAtt": ["ConsoleBucket", "RegionalDomainName"]}
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["ConsoleOriginAccessControl", "Id"]}
    behaviour = config["DefaultCacheBehavior"]
    assert behaviour["ViewerProtocolPolicy"] == "https-only"
    assert behaviour["ResponseHeadersPolicyId"] == {"Ref": "ConsoleHeadersPolicy"}
    blocked = resources["ConsoleBucket"]["Properties"]["PublicAccessBlockConfiguration"]
    assert all(blocked.values())
    statements = resources["ConsoleBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    reads = [s for s in statements if s["Effect"] == "Allow"]
    assert [s["Principal"] for s in reads] == [{"Service": "cloudfront.amazonaws.com"}]
    assert "ConsoleDistribution" in json.dumps(reads[0]["Condition"])
    assert merged["Outputs"]["ConsoleUrl"]["Value"] == {"Fn::Sub": "https://${ConsoleDistribution.DomainName}/"}


def test_security_headers(merged: dict[str, Any]) -> None:
    headers = merged["Resources"]["ConsoleHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
    security = headers["SecurityHeadersConfig"]
    csp = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"][0]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "script-src 'self';" in csp
    assert "connect-src 'self' ${ApiOrigin} ${CognitoOrigin} ${MediaOrigins};" in csp
    media = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"][1]["MediaOrigins"]["Fn::Sub"]
    assert "${MediaBucket}" in media  # the console's picture uploads go to the media bucket only
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] == HSTS_SECONDS >= 31536000
    assert security["FrameOptions"]["FrameOption"] == "DENY"
    assert security["ContentTypeOptions"]["Override"] is True


def test_cors_allows_exactly_the_console(merged: dict[str, Any]) -> None:
    body = merged["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    assert sorted(body["paths"]) == ["/leads", "/leads/{lead_id}", "/me/offers"]  # webhooks: no browser calls them
    for path, methods in body["paths"].items():
        answer = methods["options"]["x-amazon-apigateway-integration"]["responses"]["default"]
        origin = answer["responseParameters"]["method.response.header.Access-Control-Allow-Origin"]
        assert origin == {"Fn::Sub": "'https://${ConsoleDistribution.DomainName}'"}, path
    for name, response in body["x-amazon-apigateway-gateway-responses"].items():
        assert "gatewayresponse.header.Access-Control-Allow-Origin" in response["responseParameters"], name
    assert function_environment()["LEADLINE_CONSOLE_ORIGIN"] == {"Fn::Sub": "https://${ConsoleDistribution.DomainName}"}


def test_cognito_hosted_ui_returns_to_the_console(merged: dict[str, Any]) -> None:
    client = merged["Resources"]["UserPoolClient"]["Properties"]
    assert client["AllowedOAuthFlows"] == ["code"] and client["GenerateSecret"] is False
    assert client["CallbackURLs"] == [{"Fn::Sub": "https://${ConsoleDistribution.DomainName}/"}]
    assert merged["Resources"]["UserPoolDomain"]["Condition"] == "CreateUserPool"
