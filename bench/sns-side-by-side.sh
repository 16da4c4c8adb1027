#!/usr/bin/env bash
# SNS fan-out side by side with SQS's own cycle (issue 8): both on the same Wharf in each run.
#   bench/sns-side-by-side.sh [--runs 3] [--duration 10] [--raw] [--subscriptions 10] [...]  (see bench/sns-load.mjs)
# Needs `npm run build` and `npm ci` in ../shared/bench (or WHARF_BENCH_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
exec node bench/sns-load.mjs "$@"
