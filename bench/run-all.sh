#!/usr/bin/env bash
# Runs grove-jobs' dispatch bench and the tokio-cron-scheduler peer in one
# session, then regenerates docs/benchmarks.md (the part between its
# results markers) and docs/img/benchmarks.svg.
#
#   bench/run-all.sh                                  # SQLite only
#   bench/run-all.sh --postgres postgres://USER@127.0.0.1:5432/SCRATCH
#   bench/run-all.sh --postgres URL --instances 1     # any dispatch flag
#
# Arguments go to `dispatch`; the peer runs second-1000 for 20 s and
# minute-10000 (set PEER_ARGS to change). The JSON lines of the run are
# kept under bench/results/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."

out="bench/results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"

# api-load and rss start the real server binary.
cargo build --release -p grove-jobs
cargo build --release -p grove-bench --bins
(cd bench/peers && cargo build --release)

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "==> grove-jobs (results in $out/grove.jsonl)" >&2
target/release/dispatch --json "$@" | tee "$out/grove.jsonl" ||
    echo "some grove-jobs scenarios failed; the report shows the others" >&2

echo "==> tokio-cron-scheduler (results in $out/peers.jsonl)" >&2
# shellcheck disable=SC2086
bench/peers/target/release/grove-bench-peers --json ${PEER_ARGS:-} | tee "$out/peers.jsonl" ||
    echo "some peer scenarios failed; the report shows the others" >&2

load_end=$(cut -d' ' -f1-3 /proc/loadavg)
target/release/report --doc docs/benchmarks.md --svg docs/img/benchmarks.svg \
    --note "Load average (1, 5, 15 min) $load_start before the run, $load_end after it." \
    "$out/grove.jsonl" "$out/peers.jsonl"
