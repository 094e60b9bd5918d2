"""Fuzzing the API from its OpenAPI document (schemathesis)."""
