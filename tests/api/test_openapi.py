"""The OpenAPI document and the interactive docs, served by Pulse itself (no CDN)."""

from __future__ import annotations

import re


def test_openapi_document_describes_every_endpoint(client) -> None:
    spec = client.get("/api/openapi.json").get_json()
    assert spec["info"]["title"] == "Pulse"
    for path in ("/api/v1/ratings", "/api/v1/departments", "/api/v1/teams/{team_id}", "/api/v1/reason-tags"):
        assert path in spec["paths"], path
    post = spec["paths"]["/api/v1/ratings"]["post"]
    assert {"201", "404", "409", "422"} <= set(post["responses"])
    rating = spec["components"]["schemas"]["RatingIn"]
    assert set(rating["required"]) == {"join_code", "colour", "device_secret", "idempotency_key"}


def test_interactive_docs_load_their_assets_from_pulse(client) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, "the docs page references its scripts and styles"
    for asset in assets:
        assert asset.startswith("/api/docs/assets/"), f"{asset} is not served by Pulse"
        assert client.get(asset).status_code == 200, asset
