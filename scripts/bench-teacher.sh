#!/usr/bin/env bash
# Teacher benchmarks (not tests): annotate through `stepwise run` against the local fake
# OpenAI-compatible server (release build). Two scenarios:
#   fast       2 000 requests, 50 ms simulated latency, concurrency 64: ideal 64 / 0.05 s = 1 280 req/s
#              (a local inference server; the client's own per-request cost shows here)
#   realistic  4 000 requests, 1 s latency, concurrency 256: ideal 256 req/s (a remote teacher;
#              what matters is keeping 256 requests in flight, and the client's CPU while it does)
# Usage: scripts/bench-teacher.sh [fast|realistic|all]   (default: all)
# Prints the annotate stage's duration (as the store recorded it), the rate as a share of the
# ideal, and the user + sys CPU seconds of the whole `stepwise run` process.
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-all}
swift build -c release --product stepwise >/dev/null
bin="$PWD/.build/release/stepwise"

# bench NAME LATENCY_MS CONCURRENCY REQUESTS
bench() {
  local name=$1 latency=$2 concurrency=$3 requests=$4
  local tmp; tmp=$(mktemp -d)
  python3 Tests/StepwiseTests/Fixtures/fake_openai_server.py --latency-ms "$latency" > "$tmp/port" 2>/dev/null &
  local server=$!
  for _ in $(seq 100); do grep -q PORT "$tmp/port" 2>/dev/null && break; sleep 0.05; done
  local port; port=$(awk '/PORT/ {print $2}' "$tmp/port")
  mkdir -p "$tmp/Experiments"
  cat > "$tmp/Experiments/bench.yaml" <<YAML
name: bench
dataset: {kind: synthetic-arith, train_size: 8, valid_size: 4, test_size: $requests}
teacher: {kind: openai, base_url: "http://127.0.0.1:$port/v1", model: bench, prompt: $PWD/Experiments/prompts/svamp_cot.txt,
          concurrency: $concurrency, timeout: 30}
methods: {few_shot_cot: {}}
YAML
  /usr/bin/time -f "%U %S" -o "$tmp/cpu" "$bin" run "$tmp/Experiments/bench.yaml" --store "$tmp/store.sqlite" 2>"$tmp/log" >/dev/null \
    || { cat "$tmp/log"; kill "$server"; exit 1; }
  kill "$server" 2>/dev/null || true
  python3 - "$tmp/store.sqlite" "$name" "$latency" "$concurrency" "$requests" "$tmp/cpu" <<'PY'
import sqlite3, sys
path, name, latency, concurrency, requests, cpu = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
db = sqlite3.connect(path)
(s,) = db.execute("SELECT duration FROM artifacts WHERE label = 'annotate[openai test]'").fetchone()
user, sys_ = (float(x) for x in open(cpu).read().split()[-2:])
ideal = concurrency / (latency / 1000)
rps = requests / s
print(f"{name}: {requests} requests, {latency:.0f} ms latency, concurrency {concurrency}: annotate {s:.3f} s, "
      f"{rps:.0f} req/s = {rps / ideal * 100:.1f} % of the {ideal:.0f} req/s ideal; "
      f"stepwise run CPU user {user:.2f} s + sys {sys_:.2f} s")
PY
  rm -rf "$tmp"
}

case $which in
  fast) bench fast 50 64 2000 ;;
  realistic) bench realistic 1000 256 4000 ;;
  all) bench fast 50 64 2000; bench realistic 1000 256 4000 ;;
  *) echo "usage: $0 [fast|realistic|all]" >&2; exit 2 ;;
esac
