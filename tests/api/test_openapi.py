"""The OpenAPI document and the interactive docs, served by Pulse itself (no CDN)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re

import pytest


def test_openapi_document_describes_every_endpoint(client) -> None:
    spec = client.get("/api/openapi.json").get_json()
    assert spec["info"]["title"] == "Pulse"
    for path in ("/api/v1/ratings", "/api/v1/departments", "/api/v1/teams/{team_id}", "/api/v1/reason-tags"):
        assert path in spec["paths"], path
    post = spec["paths"]["/api/v1/ratings"]["post"]
    assert {"201", "404", "409", "422"} <= set(post["responses"])
    rating = spec["components"]["schemas"]["RatingIn"]
    # A device secret in open mode, a token and its pseudonyms in verified mode: neither is required alone.
    assert set(rating["required"]) == {"join_code", "colour", "idempotency_key"}
    assert {"device_secret", "token", "week_pseudonym", "day_pseudonym", "orgweek_pseudonym"} <= set(
        rating["properties"]
    )
    assert "401" in post["responses"]


def test_openapi_document_describes_the_token_endpoints(client) -> None:  # type: ignore[no-untyped-def]
    spec = client.get("/api/openapi.json").get_json()
    tokens = spec["paths"]["/api/v1/tokens"]["post"]
    assert {"200", "401", "403", "422", "429"} <= set(tokens["responses"])
    assert tokens["responses"]["401"]["content"].keys() == {"application/problem+json"}
    assert "get" in spec["paths"]["/api/v1/token-keys"]
    assert "get" in spec["paths"]["/api/v1/token-keys/weeks/{week_start}"]
    request = spec["components"]["schemas"]["TokenRequest"]
    assert request["properties"]["kind"]["enum"] == ["slot", "week", "day", "orgweek"]
    assert request["properties"]["blinded"]["maxLength"] == 43


def test_interactive_docs_load_their_assets_from_pulse(client) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, "the docs page references its scripts and styles"
    for asset in assets:
        assert asset.startswith("/api/docs/assets/"), f"{asset} is not served by Pulse"
        assert client.get(asset).status_code == 200, asset


def test_the_api_docs_allow_only_their_own_scripts(client) -> None:  # type: ignore[no-untyped-def]
    """Swagger UI's page has a script rule: scripts from Pulse, and its one inline script by hash."""
    response = client.get("/api/docs")
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["Content-Security-Policy"].split(";")
        if part.strip()
    )
    inline = re.findall(r"<script>(.*?)</script>", response.get_data(as_text=True), re.DOTALL)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    assert policy["script-src"] == f"'self' 'sha256-{digest}'"
    assert policy["default-src"] == "'none'" and policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'" and policy["base-uri"] == "'none'"


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE", "PATCH"])
@pytest.mark.parametrize(
    "path", ["/api/v1/figures/organisation/weeks", "/api/v1/teams", "/api/v1/figures/export.csv"]
)
def test_a_write_to_a_read_only_address_is_405_naming_what_is_allowed(client, method: str, path: str) -> None:  # type: ignore[no-untyped-def]
    for extra in ({}, {"json": {"x": 1}}):
        response = client.open(path, method=method, **extra)
        assert response.status_code == 405, (method, path, extra)
        assert response.mimetype == "application/problem+json"
        assert response.headers["Allow"] == "GET, HEAD, OPTIONS"


def test_a_read_of_a_write_only_address_is_405_naming_what_is_allowed(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/ratings")
    assert response.status_code == 405 and response.headers["Allow"] == "OPTIONS, POST"


def test_the_document_says_reasons_come_once_and_weeks_are_whole(client) -> None:  # type: ignore[no-untyped-def]
    spec = client.get("/api/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    for name in ("RatingIn", "ReasonsIn"):
        assert schemas[name]["properties"]["reasons"]["uniqueItems"] is True, name
    parameters = {
        p["name"]: p for p in spec["paths"]["/api/v1/figures/organisation/weeks"]["get"]["parameters"]
    }
    assert (
        parameters["from"]["schema"]["x-iso-weekday"] == 1 and "Monday" in parameters["from"]["description"]
    )
    assert parameters["to"]["schema"]["x-iso-weekday"] == 7 and "Sunday" in parameters["to"]["description"]
    assert dt.date.fromisoformat(parameters["from"]["schema"]["example"]).isoweekday() == 1
    assert dt.date.fromisoformat(parameters["to"]["schema"]["example"]).isoweekday() == 7
