/* Pulse anonymous tokens, the device's half (an ES module): blind a token for a slot, then check the server's
   proof and unblind it. The server's half is pulse/services/tokens/crypto.py; both follow RFC 9497 (VOPRF,
   ristretto255-SHA512) and agree byte for byte on the token input and the evaluation's wire form.

   1. prepareToken(publicKey) picks a random nonce and blinds the token input; the page sends `blindedB64` to
      the server and keeps `state` in memory only (it holds the blind: never store it, never send it);
   2. finishToken(state, evaluationB64, publicKey) checks the server's DLEQ proof against `publicKey` and
      unblinds: { nonceB64, authenticatorB64 } is the token, the only thing the page stores.
   The page passes the slot's key from the published list, never one that the issuance answer supplies: a
   server that signed one person's tokens with a key of their own (to recognise them later) fails the proof.
   Every byte string is base64url without padding. */

import { Evaluation, Oprf, VOPRFClient, sha256 } from "./vendor/voprf.bundle.js";

const SUITE = Oprf.Suite.RISTRETTO255_SHA512;
const TOKEN_INPUT_PREFIX = new TextEncoder().encode("pulse/v1/token");
export const NONCE_SIZE = 32;
const ELEMENT_SIZE = 32;
const PROOF_SIZE = 64;
const EVALUATION_SIZE = 2 + ELEMENT_SIZE + 1 + PROOF_SIZE; // u16 count (1), element, mode, proof

/** The server's answer cannot be turned into a token: malformed, or its proof fails against the key. */
export class TokenIssuanceError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = "TokenIssuanceError";
  }
}

export function encodeBase64url(bytes) {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function decodeBase64url(text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
    throw new TypeError("expected base64url without padding");
  }
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

/** b"pulse/v1/token" + SHA-256(public key) + nonce: the PRF input, as build_token_input on the server. */
export function buildTokenInput(publicKey, nonce) {
  if (publicKey.length !== ELEMENT_SIZE) throw new TypeError(`a public key is ${ELEMENT_SIZE} bytes`);
  if (nonce.length !== NONCE_SIZE) throw new TypeError(`a nonce is ${NONCE_SIZE} bytes`);
  const keyId = sha256(publicKey);
  const input = new Uint8Array(TOKEN_INPUT_PREFIX.length + keyId.length + nonce.length);
  input.set(TOKEN_INPUT_PREFIX, 0);
  input.set(keyId, TOKEN_INPUT_PREFIX.length);
  input.set(nonce, TOKEN_INPUT_PREFIX.length + keyId.length);
  return input;
}

function decodePublicKey(publicKeyB64) {
  const publicKey = decodeBase64url(publicKeyB64);
  if (publicKey.length !== ELEMENT_SIZE) throw new TypeError(`a public key is ${ELEMENT_SIZE} bytes`);
  Oprf.getGroup(SUITE).desElt(publicKey); // throws unless it is a valid element
  return publicKey;
}

/** Starts a token for the slot whose published key is `publicKeyB64`: { nonce, state, blindedB64 }. */
export async function prepareToken(publicKeyB64) {
  const publicKey = decodePublicKey(publicKeyB64);
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_SIZE));
  const client = new VOPRFClient(SUITE, publicKey);
  const [finalizeData, request] = await client.blind([buildTokenInput(publicKey, nonce)]);
  const state = Object.freeze({ publicKeyB64, nonce, client, finalizeData });
  return { nonce, state, blindedB64: encodeBase64url(request.blinded[0].serialize()) };
}

/** Checks the server's proof against `publicKeyB64` and unblinds: { nonceB64, authenticatorB64 }.
    Throws TokenIssuanceError if the answer is malformed or its proof does not verify. */
export async function finishToken(state, evaluationB64, publicKeyB64) {
  if (publicKeyB64 !== state.publicKeyB64) {
    throw new TypeError("finishToken needs the public key the token was prepared for");
  }
  let evaluation;
  try {
    const bytes = decodeBase64url(evaluationB64);
    if (bytes.length !== EVALUATION_SIZE || bytes[0] !== 0 || bytes[1] !== 1) {
      throw new Error(`expected one evaluated element in ${EVALUATION_SIZE} bytes, got ${bytes.length}`);
    }
    if (bytes[2 + ELEMENT_SIZE] !== Oprf.Mode.VOPRF) throw new Error("the evaluation is not in VOPRF mode");
    evaluation = Evaluation.deserialize(SUITE, bytes);
  } catch (error) {
    throw new TokenIssuanceError(`The server's token answer is malformed: ${error.message}`, { cause: error });
  }
  let outputs;
  try {
    outputs = await state.client.finalize(state.finalizeData, evaluation);
  } catch (error) {
    throw new TokenIssuanceError(
      "The server's token answer does not prove it used this slot's published key: the token is refused.",
      { cause: error }
    );
  }
  return { nonceB64: encodeBase64url(state.nonce), authenticatorB64: encodeBase64url(outputs[0]) };
}
