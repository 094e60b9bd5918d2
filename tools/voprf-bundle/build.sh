#!/usr/bin/env bash
# Rebuilds pulse/web/static/vendor/voprf.bundle.js and its licences from the exact versions in
# package-lock.json. Needs Node.js 20+ and npm's registry; Pulse itself never runs this (the output is committed).
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
node build.mjs
