/* Test harness for tests/browser/test_tokens.py: loaded as a module by a page on the app's origin, under the
   rating page's Content-Security-Policy. It imports the vendored bundle and tokens.js from the app's static
   route and exposes window.tokensHarness for the test to call. Test-only code (the fixed blind) lives here,
   never in the vendored file. */
import * as voprf from "/r/static/vendor/voprf.bundle.js";
import * as tokens from "/r/static/tokens.js";

const { Evaluation, Oprf, VOPRFClient } = voprf;
const SUITE = Oprf.Suite.RISTRETTO255_SHA512;
const group = Oprf.getGroup(SUITE);
const fromHex = (hex) => Uint8Array.from(hex.match(/../g) || [], (pair) => parseInt(pair, 16));
const toHex = (bytes) => Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");

// voprf-ts draws the blind in baseClient.randomBlinder(); a subclass fixes it to the test vector's Blind.
class FixedBlindClient extends VOPRFClient {
  constructor(publicKey, blind) {
    super(SUITE, publicKey);
    this.blind_ = group.desScalar(blind);
  }
  async randomBlinder() {
    return this.blind_;
  }
}

// Does this page let code be made from strings? It must not: the bundle has to work without it.
let evalAllowed;
try {
  evalAllowed = new Function("return true")();
} catch (error) {
  evalAllowed = false;
}

const states = new Map();

window.tokensHarness = {
  evalAllowed,

  /* One RFC 9497 vector through the bundle: blind with the vector's Blind, then finalize the vector's
     evaluation (element and proof, in the wire form the server sends) with the vector's public key. */
  async runVector(pkSmHex, vector, proofHex) {
    const client = new FixedBlindClient(fromHex(pkSmHex), fromHex(vector.Blind));
    const [finalizeData, request] = await client.blind([fromHex(vector.Input)]);
    const wire = fromHex("0001" + vector.EvaluationElement + "01" + proofHex);
    try {
      const [output] = await client.finalize(finalizeData, Evaluation.deserialize(SUITE, wire));
      return { blinded: toHex(request.blinded[0].serialize()), output: toHex(output) };
    } catch (error) {
      return { blinded: toHex(request.blinded[0].serialize()), error: error.message };
    }
  },

  tokenInput(publicKeyB64, nonceB64) {
    return tokens.encodeBase64url(
      tokens.buildTokenInput(tokens.decodeBase64url(publicKeyB64), tokens.decodeBase64url(nonceB64))
    );
  },

  async prepare(publicKeyB64) {
    const { nonce, state, blindedB64 } = await tokens.prepareToken(publicKeyB64);
    const id = states.size;
    states.set(id, state);
    return { id, blindedB64, nonceB64: tokens.encodeBase64url(nonce) };
  },

  async finish(id, evaluationB64, publicKeyB64) {
    try {
      return await tokens.finishToken(states.get(id), evaluationB64, publicKeyB64);
    } catch (error) {
      return { error: error.name, message: error.message };
    }
  },

  /* For benchmarks/tokens.py: prepare `count` tokens, then (after the caller has had them evaluated) finish
     them, timing each phase on the page's clock. */
  async prepareMany(publicKeysB64) {
    const started = performance.now();
    const prepared = [];
    for (const key of publicKeysB64) prepared.push(await this.prepare(key));
    return { prepared, ms: performance.now() - started };
  },

  async finishMany(items) {
    const started = performance.now();
    const finished = [];
    for (const { id, evaluationB64, publicKeyB64 } of items) {
      finished.push(await this.finish(id, evaluationB64, publicKeyB64));
    }
    return { finished, ms: performance.now() - started };
  },
};
window.dispatchEvent(new Event("tokens-harness-ready"));
document.documentElement.dataset.harness = "ready";
