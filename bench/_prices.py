"""Public us-east-1 list prices (on-demand, no free tier), for turning measured AWS calls into dollars.

Read on 2026-11-26 from stored copies of public pages (the search tool's `pages`/`docs` corpora,
not the live AWS pages; check https://aws.amazon.com/<service>/pricing/ before relying on them):
- DynamoDB on-demand after the 1 Nov 2024 cut: $0.625 per million write request units, $0.125 per
  million read request units (airbyte.com "DynamoDB pricing", Jul 2025; jusdb.com, Aug 2025).
- Lambda x86: $0.20 per million requests, $0.0000166667 per GB-second (cloudchipr.com Lambda pricing guide).
- SQS standard: $0.40 per million requests, each 64 KB of a payload one request (cloudburn.io, Mar 2026).
- API Gateway REST API (what Chalice deploys): $3.50 per million calls, first 333 million a month
  (AWS whitepaper "Best Practices for Designing Amazon API Gateway Private APIs", table 4).
- SES: $0.10 per 1,000 emails (AWS Price List via api-evangelist/amazon-ses, 2026).
- S3 Standard: $0.005 per 1,000 PUT/COPY/POST/LIST, $0.0004 per 1,000 GET (c3x.dev, 2026)."""

from __future__ import annotations

DYNAMODB_WRU = 0.625e-6
DYNAMODB_RRU = 0.125e-6
LAMBDA_REQUEST = 0.20e-6
LAMBDA_GB_SECOND = 0.0000166667
SQS_REQUEST = 0.40e-6
API_GATEWAY_REST_CALL = 3.50e-6
SES_EMAIL = 0.10e-3
S3_PUT = 0.005e-3
S3_GET = 0.0004e-3
