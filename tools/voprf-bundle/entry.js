// The parts of @cloudflare/voprf-ts that Pulse's rating page uses (pulse/web/static/tokens.js), on the
// @noble/curves provider. Bundled by build.mjs into pulse/web/static/vendor/voprf.bundle.js.
//
// Imported by relative path, not by package name: the package's "exports" map lists "default" before "import",
// so a bundler resolving '@cloudflare/voprf-ts' picks its CommonJS build. The ES module build tree-shakes.
import {
  DLEQProof,
  Evaluation,
  EvaluationRequest,
  FinalizeData,
  Oprf,
  VOPRFClient
} from './node_modules/@cloudflare/voprf-ts/lib/esm/src/index.js';
import { CryptoNoble } from './node_modules/@cloudflare/voprf-ts/lib/esm/src/cryptoNoble.js';
// Already in the bundle (the P-256 suite's hash): tokens.js hashes the public key into the token input with it,
// so that a page over plain HTTP (a demo on a LAN), where crypto.subtle is missing, works as well.
import { sha256 } from '@noble/hashes/sha256';

Oprf.Crypto = CryptoNoble;

export { CryptoNoble, DLEQProof, Evaluation, EvaluationRequest, FinalizeData, Oprf, VOPRFClient, sha256 };
