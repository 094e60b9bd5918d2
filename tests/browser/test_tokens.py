"""Anonymous tokens in real Chromium: the vendored voprf-ts bundle passes the RFC 9497 vectors, and tokens.js
works with the server's half (pulse/services/tokens) under the rating page's Content-Security-Policy.

The bundle and tokens.js come from the app's own static route. The test page and its harness
(tests/browser/tokens/harness.js) are served on the app's origin by Playwright, with the rating page's policy.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route

from pulse.services.tokens import (
    build_slot_info,
    build_token_input,
    clear_key_cache,
    decode_base64url,
    derive_public_key,
    encode_base64url,
    evaluate_blinded,
    verify_token,
)
from pulse.web.pages import CONTENT_SECURITY_POLICY

HARNESS = Path(__file__).with_name("tokens") / "harness.js"
VECTORS = json.loads(
    (Path(__file__).parents[1] / "services" / "tokens" / "rfc9497_a12_ristretto255_voprf.json").read_text()
)
HARNESS_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Tokens harness</title>'
    '<script type="module" src="/__tokens__/harness.js"></script></head><body></body></html>'
)
SEED = secrets.token_bytes(32)
SLOT = build_slot_info(3, dt.date(2026, 11, 18), 1)


def serve_harness(page: Page, origin: str) -> list[str]:
    """Opens the harness page on `origin`; returns the list that collects the page's uncaught errors."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    def fulfil(route: Route) -> None:
        if route.request.url.endswith("/harness.js"):
            route.fulfill(body=HARNESS.read_text(), content_type="text/javascript")
        else:
            headers = {"Content-Security-Policy": CONTENT_SECURITY_POLICY}
            route.fulfill(body=HARNESS_PAGE, content_type="text/html", headers=headers)

    page.route(f"{origin}/__tokens__/**", fulfil)
    page.goto("/__tokens__/")
    page.wait_for_selector("html[data-harness=ready]", state="attached")
    return errors


@pytest.fixture
def harness(page: Page, live_server: str) -> Iterator[Page]:
    clear_key_cache()
    errors = serve_harness(page, live_server)
    yield page
    assert errors == []


def call(page: Page, expression: str, *args: Any) -> Any:
    return page.evaluate(f"([args]) => window.tokensHarness.{expression}(...args)", [list(args)])


def issue(page: Page, seed: bytes, info: bytes, public_key: bytes) -> dict[str, str]:
    """The page prepares a token, the server evaluates it with (seed, info), the page finishes it."""
    prepared = call(page, "prepare", encode_base64url(public_key))
    evaluation = evaluate_blinded(seed, info, decode_base64url(prepared["blindedB64"]))
    return call(page, "finish", prepared["id"], encode_base64url(evaluation), encode_base64url(public_key))


def test_the_bundle_passes_the_rfc_9497_vectors_under_the_rating_page_policy(harness: Page) -> None:
    """With the vector's Blind: BlindedElement, the proof (checked by finalize) and Output, for both vectors.
    The same runs with the other vector's proof must fail, or the proof check would prove nothing."""
    assert harness.evaluate("window.tokensHarness.evalAllowed") is False  # the policy is in force here
    first, second = VECTORS["vectors"]
    for vector, other in ((first, second), (second, first)):
        result = call(harness, "runVector", VECTORS["pkSm"], vector, vector["Proof"])
        assert result == {"blinded": vector["BlindedElement"], "output": vector["Output"]}

        wrong_proof = call(harness, "runVector", VECTORS["pkSm"], vector, other["Proof"])
        assert wrong_proof == {"blinded": vector["BlindedElement"], "error": "proof failed"}


def test_a_token_made_by_the_page_is_accepted_by_the_server_and_only_as_issued(harness: Page) -> None:
    public_key = derive_public_key(SEED, SLOT)
    token = issue(harness, SEED, SLOT, public_key)
    nonce, authenticator = decode_base64url(token["nonceB64"]), decode_base64url(token["authenticatorB64"])
    assert (len(nonce), len(authenticator)) == (32, 64)

    assert verify_token(SEED, SLOT, nonce, authenticator)
    tampered = authenticator[:-1] + bytes([authenticator[-1] ^ 0x80])
    assert not verify_token(SEED, SLOT, nonce, tampered)
    assert not verify_token(SEED, SLOT, secrets.token_bytes(32), authenticator)
    assert not verify_token(SEED, build_slot_info(3, dt.date(2026, 11, 18), 2), nonce, authenticator)
    assert not verify_token(secrets.token_bytes(32), SLOT, nonce, authenticator)

    second = issue(harness, SEED, SLOT, public_key)
    assert second["nonceB64"] != token["nonceB64"]
    assert verify_token(
        SEED, SLOT, decode_base64url(second["nonceB64"]), decode_base64url(second["authenticatorB64"])
    )


def test_the_page_and_the_server_build_the_same_token_input(harness: Page) -> None:
    public_key, nonce = derive_public_key(SEED, SLOT), secrets.token_bytes(32)
    made_by_page = call(harness, "tokenInput", encode_base64url(public_key), encode_base64url(nonce))
    assert decode_base64url(made_by_page) == build_token_input(public_key, nonce)


def test_the_page_refuses_an_answer_made_under_another_key_than_the_published_one(harness: Page) -> None:
    """Key consistency: a server that evaluates one person's tokens under a key of its own is caught."""
    published = derive_public_key(SEED, SLOT)
    personal_seed = secrets.token_bytes(32)
    for seed, info in ((personal_seed, SLOT), (SEED, build_slot_info(3, dt.date(2026, 11, 18), 2))):
        refused = issue(harness, seed, info, published)
        assert refused["error"] == "TokenIssuanceError"
        assert "published key" in refused["message"]

    # The control: the same steps under the published key make a token.
    assert "authenticatorB64" in issue(harness, SEED, SLOT, published)


def test_the_page_refuses_a_malformed_or_tampered_answer(harness: Page) -> None:
    public_key = derive_public_key(SEED, SLOT)
    key_b64 = encode_base64url(public_key)
    prepared = call(harness, "prepare", key_b64)
    evaluation = evaluate_blinded(SEED, SLOT, decode_base64url(prepared["blindedB64"]))

    bad_proof = evaluation[:-1] + bytes([evaluation[-1] ^ 1])
    bad_element = evaluation[:2] + bytes([evaluation[2] ^ 1]) + evaluation[3:]
    answers = {
        "proof": (bad_proof, "published key"),
        "element": (bad_element, ""),
        "truncated": (evaluation[:-1], "malformed"),
        "oprf-mode": (evaluation[:34] + b"\x00" + evaluation[35:], "malformed"),
        "two-elements": (b"\x00\x02" + evaluation[2:], "malformed"),
    }
    for name, (answer, words) in answers.items():
        refused = call(harness, "finish", prepared["id"], encode_base64url(answer), key_b64)
        assert refused.get("error") == "TokenIssuanceError", name
        assert words in refused["message"], name

    # The state survives refusals: the genuine answer still finishes the same token.
    token = call(harness, "finish", prepared["id"], encode_base64url(evaluation), key_b64)
    assert token["nonceB64"] == prepared["nonceB64"]
    assert verify_token(
        SEED, SLOT, decode_base64url(token["nonceB64"]), decode_base64url(token["authenticatorB64"])
    )
