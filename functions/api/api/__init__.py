"""api: the HTTP API (API Gateway HTTP API, payload v2.0, IAM authorization) over configs, runs and approvals."""
