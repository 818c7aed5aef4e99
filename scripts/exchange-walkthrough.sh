#!/usr/bin/env bash
# Two jurisdictions find a cross-border link (README: "Cross-border
# walkthrough"). NL holds test fires from seized pistols; DE holds
# cartridge cases from a crime scene. Neither sends its database: DE first
# searches NL's evidence with numbers only (federated search), then NL sends
# DE the one test fire that matched, as a signed package; DE imports it,
# correlates, an examiner records the identification, and the link between
# the two cases and jurisdictions appears.
#   scripts/exchange-walkthrough.sh [WORKDIR]      (after scripts/setup.sh)
# Uses ../shared/datasets/fadul when present, else synthetic scans.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
t=${TOOLMARK_BIN:-$root/build/tools/toolmark}
work=${1:-$(mktemp -d)}
mkdir -p "$work"
cd "$work"
rm -rf nl-db de-db nl-in de-in scans
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null || true' EXIT
say() { printf '\n== %s\n' "$*"; }

fadul="${TOOLMARK_DATASETS:-$root/../shared/datasets}/fadul"
mkdir -p nl-in de-in
if [ -f "$fadul/fadul-1-1.x3p" ]; then
  cp "$fadul"/fadul-{1,2,3,4}-1.x3p nl-in/          # NL: test fires of four seized pistols
  cp "$fadul/fadul-2-2.x3p" "$fadul/fadul-9-2.x3p" de-in/   # DE: two cartridge cases from a scene
  crime=de-in/fadul-2-2.x3p
else
  "$t" synth scans --kind cartridge_case --firearms 4 --per-firearm 2 --seed 21 >/dev/null
  cp scans/cc-f000{0,1,2,3}-s1.x3p nl-in/
  cp scans/cc-f0001-s2.x3p de-in/
  crime=de-in/cc-f0001-s2.x3p
fi

say "NL (national lab) ingests its test fires; DE (state police) its crime-scene cartridge cases"
"$t" ingest --db nl-db --case NL-TF-2026-14 --kind cartridge_case --role reference --jurisdiction NL nl-in/
"$t" ingest --db de-db --case DE-2026-0815 --kind cartridge_case --role questioned --jurisdiction DE de-in/

say "each creates its signing key; they exchange public keys and trust each other"
"$t" keys init --db nl-db --jurisdiction NL
"$t" keys init --db de-db --jurisdiction DE
nl_key=$("$t" keys show --db nl-db --json | sed -n 's/.*"public_key": "\([0-9a-f]*\)".*/\1/p')
de_key=$("$t" keys show --db de-db --json | sed -n 's/.*"public_key": "\([0-9a-f]*\)".*/\1/p')
"$t" keys trust --db de-db --jurisdiction NL --key "$nl_key"
"$t" keys trust --db nl-db --jurisdiction DE --key "$de_key"

say "NL's server answers trusted partners' searches (numbers only; no scan leaves NL)"
"$t" users add --db nl-db nl-admin --role admin >/dev/null   # no default password: a user or nothing
"$t" serve --db nl-db --port 0 >nl-serve.out 2>nl-serve.err &
server=$!
for _ in $(seq 1 100); do url=$(sed -n 's/^toolmark: serving //p' nl-serve.out); [ -n "$url" ] && break; sleep 0.1; done
[ -n "$url" ] || { echo "walkthrough: NL's server did not start" >&2; exit 1; }

say "DE searches its crime-scene cartridge case locally and at NL (federated)"
"$t" search --db de-db "$crime" --top 3 --partners "${url%/}" | tee de-search.txt
nl_item=$("$t" search --db de-db "$crime" --top 1 --partners "${url%/}" --json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["federated_hits"][0]["item"])')
echo "NL's best candidate for DE's case: NL item $nl_item"

say "NL sends DE that test fire, scans included, as a signed package"
"$t" export --db nl-db --items "$nl_item" --to DE --level scans nl-to-de.tmpkg
kill "$server"; wait "$server" 2>/dev/null || true; server=""

say "DE verifies and imports it (signature, every file's SHA-256, addressee, versions, replay) and correlates"
"$t" import --db de-db nl-to-de.tmpkg
"$t" correlate --db de-db --top 3
"$t" hits --db de-db --status all

say "a DE examiner reviews the cross-border hit and records the identification"
hit=$("$t" hits --db de-db --json | python3 -c '
import json, sys
hits = [h for h in json.load(sys.stdin) if h["cross_border"]]
print(max(hits, key=lambda h: h["score"])["id"])')
"$t" review --db de-db "$hit" --decision identification --examiner "K. Weber (DE)" \
  --note "Breech-face marks agree with NL test fire; firing pin consistent."
"$t" report --db de-db "$hit" --out cross-border-hit.html

say "the link: one firearm, two cases, two jurisdictions"
"$t" links --db de-db | tee links.txt
grep -q "jurisdictions DE, NL" links.txt || { echo "walkthrough: no cross-border link" >&2; exit 1; }
echo "walkthrough: PASS (report: $work/cross-border-hit.html)"
