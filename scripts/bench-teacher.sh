#!/usr/bin/env bash
# Teacher benchmark (not a test): annotate 2 000 examples through `stepwise run` against the
# local fake OpenAI-compatible server with 50 ms simulated latency, concurrency 64. The ideal
# is 64 / 0.05 s = 1 280 requests/s. Release build.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product stepwise >/dev/null
bin="$PWD/.build/release/stepwise"
tmp=$(mktemp -d)
python3 Tests/StepwiseTests/Fixtures/fake_openai_server.py --latency-ms 50 > "$tmp/port" 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do grep -q PORT "$tmp/port" 2>/dev/null && break; sleep 0.05; done
port=$(awk '/PORT/ {print $2}' "$tmp/port")
mkdir -p "$tmp/Experiments"
cat > "$tmp/Experiments/bench.yaml" <<YAML
name: bench
dataset: {kind: synthetic-arith, train_size: 8, valid_size: 4, test_size: 2000}
teacher: {kind: openai, base_url: "http://127.0.0.1:$port/v1", model: bench, prompt: $PWD/Experiments/prompts/svamp_cot.txt,
          concurrency: 64, timeout: 30}
methods: {few_shot_cot: {}}
YAML
"$bin" run "$tmp/Experiments/bench.yaml" --store "$tmp/store.sqlite" 2>"$tmp/log" >/dev/null
# The stage's duration as the store recorded it (the log rounds to 0.1 s, 5 % at this scale).
python3 - "$tmp/store.sqlite" <<PY
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
(s,) = db.execute("SELECT duration FROM artifacts WHERE label = 'annotate[openai test]'").fetchone()
rps = 2000 / s
print(f"annotate 2000 requests: {s:.3f} s, {rps:.0f} req/s = {rps / 1280 * 100:.1f} % of the 1280 req/s ideal (goal >= 90 %)")
PY
