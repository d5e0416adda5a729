#!/usr/bin/env bash
# Benchmark (not a test): the report page of a synthetic 500-cell sweep — its size, and how long
# headless Chromium takes to load and lay it out. `stepwise bench report` renders the page from
# made-up inputs (nothing is trained); a copy with one timing script added (the page itself runs
# only its own script) records, at the load event, the time since navigation started and the time
# a full layout then takes. Whole-process times of a screenshot of the page and of an empty page
# are printed too (the difference is the page's own cost).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${STEPWISE:-.build/release/stepwise}
runs=${RUNS:-3}
chromium=$(command -v chromium || command -v chromium-browser || true)
[ -n "$chromium" ] || { echo "bench-report-page: chromium is not installed (apt-get install chromium)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" bench report --directory "$work" --json > "$work/render.json"
cat "$work/render.json"
page=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["page"])' "$work/render.json")
python3 - "$page" "$work/timed.html" <<'PY'
import re, sys
html = open(sys.argv[1], encoding="utf-8").read()
html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>\n', "", html, count=1)
probe = ("<script>addEventListener('load',function(){var load=performance.now();"
         "var h=document.documentElement.scrollHeight;var layout=performance.now()-load;"
         "var p=document.createElement('pre');p.id='timing';"
         "p.textContent=JSON.stringify({load_ms:Math.round(load),layout_ms:Math.round(layout),height_px:h});"
         "document.body.appendChild(p);});</script>\n")
open(sys.argv[2], "w", encoding="utf-8").write(html.replace("</body>", probe + "</body>", 1))
PY
echo '<!DOCTYPE html><p>empty</p>' > "$work/empty.html"
flags=(--headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars)
for i in $(seq "$runs"); do
  timing=$("$chromium" "${flags[@]}" --user-data-dir="$work/p$i" --dump-dom "file://$work/timed.html" 2>/dev/null \
    | sed -n 's/.*<pre id="timing">\(.*\)<\/pre>.*/\1/p')
  t0=$(date +%s.%N)
  "$chromium" "${flags[@]}" --user-data-dir="$work/s$i" --window-size=1280,2000 --screenshot="$work/page.png" "file://$page" 2>/dev/null
  t1=$(date +%s.%N)
  "$chromium" "${flags[@]}" --user-data-dir="$work/e$i" --window-size=1280,2000 --screenshot="$work/empty.png" "file://$work/empty.html" 2>/dev/null
  t2=$(date +%s.%N)
  echo "run $i: in page $timing; screenshot whole process: page $(python3 -c "print(round($t1 - $t0, 2))") s, empty page $(python3 -c "print(round($t2 - $t1, 2))") s"
done
