"""The server's half of anonymous tokens: RFC 9497 test vectors, the wire form, checking tokens, bad input.

The device's half runs in Chromium in tests/browser/test_tokens.py, against the same vectors and this code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from pathlib import Path
from typing import Any

import pytest
from voprf import ristretto

from pulse.services.errors import InvalidInput
from pulse.services.tokens import (
    EVALUATION_SIZE,
    MalformedBlindedElement,
    build_day_info,
    build_slot_info,
    build_token_input,
    build_week_info,
    clear_key_cache,
    compute_key_id,
    derive_key,
    derive_public_key,
    evaluate_blinded,
    verify_token,
)

VECTORS_FILE = Path(__file__).with_name("rfc9497_a12_ristretto255_voprf.json")
SEED = bytes(range(32))
OTHER_SEED = bytes(range(1, 33))
SLOT = build_slot_info(7, dt.date(2026, 11, 18), 2)


def load_vectors() -> dict[str, Any]:
    return json.loads(VECTORS_FILE.read_text())


RFC = load_vectors()


def split_evaluation(evaluation: bytes) -> tuple[int, bytes, int, bytes]:
    """(count, evaluated element, mode, proof), read as voprf-ts's Evaluation.deserialize reads them."""
    return int.from_bytes(evaluation[:2], "big"), evaluation[2:34], evaluation[34], evaluation[35:]


def issue_token(seed: bytes, info: bytes) -> tuple[bytes, bytes]:
    """A token made with the Python client: (nonce, authenticator). The browser client: test_tokens.py."""
    public_key = derive_public_key(seed, info)
    nonce = secrets.token_bytes(32)
    client, blinded = ristretto.Client.blind(build_token_input(public_key, nonce))
    _, element, _, proof = split_evaluation(evaluate_blinded(seed, info, blinded.serialize()))
    output = ristretto.VerifiableOutput.deserialize(proof + element)
    return nonce, client.finalize(output, ristretto.PublicKey.deserialize(public_key))


@pytest.fixture(autouse=True)
def cold_key_cache() -> None:
    clear_key_cache()


# --- RFC 9497 Appendix A.1.2


def test_derive_key_pair_gives_the_rfc_public_key() -> None:
    public_key = derive_public_key(bytes.fromhex(RFC["Seed"]), bytes.fromhex(RFC["KeyInfo"]))
    assert public_key.hex() == RFC["pkSm"]


@pytest.mark.parametrize("vector", RFC["vectors"], ids=["input-00", "input-5a"])
def test_blind_evaluate_gives_the_rfc_evaluation_element(vector: dict[str, str]) -> None:
    """The proof is randomised (the binding takes no ProofRandomScalar), so only its size is checked here; the
    browser test checks the vector's proof in full, and test_an_evaluation_finalizes_... checks ours."""
    evaluation = evaluate_blinded(
        bytes.fromhex(RFC["Seed"]), bytes.fromhex(RFC["KeyInfo"]), bytes.fromhex(vector["BlindedElement"])
    )
    count, element, mode, proof = split_evaluation(evaluation)
    assert (len(evaluation), count, mode, len(proof)) == (EVALUATION_SIZE, 1, 1, 64)
    assert element.hex() == vector["EvaluationElement"]


@pytest.mark.parametrize("vector", RFC["vectors"], ids=["input-00", "input-5a"])
def test_evaluate_gives_the_rfc_output(vector: dict[str, str]) -> None:
    key = derive_key(bytes.fromhex(RFC["Seed"]), bytes.fromhex(RFC["KeyInfo"]))
    assert key.evaluator.evaluate_known_input(bytes.fromhex(vector["Input"])).hex() == vector["Output"]


# --- the wire form


def test_an_evaluation_finalizes_to_the_prf_output_with_its_proof_checked() -> None:
    public_key = derive_public_key(SEED, SLOT)
    token_input = build_token_input(public_key, bytes(32))
    client, blinded = ristretto.Client.blind(token_input)
    evaluation = evaluate_blinded(SEED, SLOT, blinded.serialize())
    _, element, _, proof = split_evaluation(evaluation)

    output = client.finalize(
        ristretto.VerifiableOutput.deserialize(proof + element), ristretto.PublicKey.deserialize(public_key)
    )

    assert output == derive_key(SEED, SLOT).evaluator.evaluate_known_input(token_input)


def test_two_evaluations_of_one_element_differ_in_their_proof_only() -> None:
    _, blinded = ristretto.Client.blind(b"input")
    first = split_evaluation(evaluate_blinded(SEED, SLOT, blinded.serialize()))
    second = split_evaluation(evaluate_blinded(SEED, SLOT, blinded.serialize()))
    assert first[:3] == second[:3]
    assert first[3] != second[3]


def test_a_proof_under_another_key_fails_the_python_client() -> None:
    """The key-consistency check on the Python client: the browser's is in tests/browser/test_tokens.py."""
    public_key = derive_public_key(SEED, SLOT)
    client, blinded = ristretto.Client.blind(build_token_input(public_key, bytes(32)))
    _, element, _, proof = split_evaluation(evaluate_blinded(OTHER_SEED, SLOT, blinded.serialize()))
    with pytest.raises(ValueError):
        client.finalize(
            ristretto.VerifiableOutput.deserialize(proof + element),
            ristretto.PublicKey.deserialize(public_key),
        )


def test_the_token_input_is_the_prefix_the_key_id_and_the_nonce() -> None:
    public_key = derive_public_key(SEED, SLOT)
    nonce = bytes(range(100, 132))
    assert compute_key_id(public_key) == hashlib.sha256(public_key).digest()
    assert (
        build_token_input(public_key, nonce)
        == b"pulse/v1/token" + hashlib.sha256(public_key).digest() + nonce
    )


@pytest.mark.parametrize("size", [0, 31, 33])
def test_a_nonce_of_another_size_makes_no_token_input(size: int) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        build_token_input(derive_public_key(SEED, SLOT), bytes(size))


# --- checking a token


def test_a_token_issued_for_a_slot_is_accepted_there() -> None:
    nonce, authenticator = issue_token(SEED, SLOT)
    assert verify_token(SEED, SLOT, nonce, authenticator)


def test_a_token_is_refused_when_anything_in_it_or_its_key_differs() -> None:
    nonce, authenticator = issue_token(SEED, SLOT)
    tampered = bytes([authenticator[0] ^ 1]) + authenticator[1:]
    other_nonce = bytes([nonce[0] ^ 1]) + nonce[1:]
    next_band = build_slot_info(7, dt.date(2026, 11, 18), 3)
    next_day = build_slot_info(7, dt.date(2026, 11, 19), 2)
    other_team = build_slot_info(8, dt.date(2026, 11, 18), 2)

    assert not verify_token(SEED, SLOT, nonce, tampered)
    assert not verify_token(SEED, SLOT, other_nonce, authenticator)
    for info in (next_band, next_day, other_team):
        assert not verify_token(SEED, info, nonce, authenticator)
    assert not verify_token(OTHER_SEED, SLOT, nonce, authenticator)
    assert not verify_token(SEED, SLOT, nonce[:31], authenticator)
    assert not verify_token(SEED, SLOT, nonce, authenticator[:63])
    assert verify_token(SEED, SLOT, nonce, authenticator)  # the untouched token still passes


# --- bad input


@pytest.mark.parametrize(
    "blinded",
    [
        pytest.param(b"", id="empty"),
        pytest.param(bytes(31), id="short"),
        pytest.param(bytes(33), id="long"),
        pytest.param(b"\xff" * 32, id="not-a-point"),
        pytest.param(bytes(32), id="identity"),
        # 2^255 - 18: the field element p + 1, a non-canonical encoding (RFC 9496 rejects it)
        pytest.param(bytes.fromhex("ee" + "ff" * 30 + "7f"), id="non-canonical"),
        pytest.param(bytes.fromhex(RFC["pkSm"])[:31] + b"\x80", id="high-bit-set"),
    ],
)
def test_a_malformed_blinded_element_is_refused_with_a_typed_error(blinded: bytes) -> None:
    with pytest.raises(MalformedBlindedElement) as refused:
        evaluate_blinded(SEED, SLOT, blinded)
    assert isinstance(refused.value, InvalidInput)
    assert refused.value.field == "blinded"


def test_a_valid_blinded_element_is_evaluated() -> None:
    """The contrast to the malformed cases: a real point of the right size passes the same checks."""
    assert len(evaluate_blinded(SEED, SLOT, bytes.fromhex(RFC["vectors"][0]["BlindedElement"]))) == 99


# --- keys and info strings


def test_keys_differ_by_info_and_by_seed_and_are_cached() -> None:
    key = derive_key(SEED, SLOT)
    assert derive_key(SEED, SLOT) is key
    assert derive_public_key(SEED, build_slot_info(7, dt.date(2026, 11, 18), 3)) != key.public_key
    assert derive_public_key(OTHER_SEED, SLOT) != key.public_key
    clear_key_cache()
    again = derive_key(SEED, SLOT)
    assert again is not key and again.public_key == key.public_key
    assert again.key_id == hashlib.sha256(key.public_key).digest()


@pytest.mark.parametrize("size", [16, 31, 33])
def test_a_seed_must_be_32_bytes(size: int) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        derive_key(bytes(size), SLOT)


def test_the_info_strings_follow_the_documented_convention() -> None:
    assert build_slot_info(12, dt.date(2026, 11, 18), 3) == b"pulse/v1/slot/12/2026-11-18/3"
    assert build_week_info(12, dt.date(2026, 11, 16)) == b"pulse/v1/week/12/2026-11-16"
    assert build_day_info(dt.date(2026, 11, 18)) == b"pulse/v1/day/2026-11-18"


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: build_slot_info(0, dt.date(2026, 11, 18), 3), id="team-0"),
        pytest.param(lambda: build_slot_info(True, dt.date(2026, 11, 18), 3), id="team-bool"),
        pytest.param(lambda: build_slot_info(12, dt.date(2026, 11, 18), -1), id="band-negative"),
        pytest.param(lambda: build_slot_info(12, dt.datetime(2026, 11, 18, 7), 3), id="a-datetime"),
        pytest.param(lambda: build_week_info(12, dt.date(2026, 11, 18)), id="week-on-a-wednesday"),
        pytest.param(lambda: build_day_info("2026-11-18"), id="day-as-text"),
    ],
)
def test_an_info_string_is_refused_for_a_value_that_would_name_another_key(build: Any) -> None:
    with pytest.raises(ValueError):
        build()
