"""Tests of the API as a whole (pubcredit/api.py and every app's router): errors, bounds, the
OpenAPI document, rate limits and keys across processes, the role × operation matrix and the
schemathesis run over every operation."""
