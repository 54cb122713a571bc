#!/usr/bin/env bash
# Save an unfinished long run (one that spans sessions) into the repository so
# that its progress survives the loss of runs/: its latest and best checkpoints
# WITH optimizer state (what --resume needs), and run.json/history.json/latest.json,
# into checkpoints/in-progress/<name>/. Not a shipped model: no card, no export.
#   usage: tools/scripts/save-partial-run.sh <run-dir> <name>
#   resume: cp -r checkpoints/in-progress/<name> runs/<name> && pnpm train ... --out runs/<name> --resume
set -euo pipefail
run=${1:?run directory}; name=${2:?name}
cd "$(dirname "$0")/../.."
dest=checkpoints/in-progress/$name
latest=$(node -e 'const l=require(process.argv[1]);if(!l.latest)process.exit(1);console.log(l.latest)' "$(realpath "$run")/latest.json")
best=$(node -e 'console.log(require(process.argv[1]).best||"")' "$(realpath "$run")/latest.json")
rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
for c in $latest $best; do [ -d "$dest.tmp/$c" ] || cp -r "$run/$c" "$dest.tmp/$c"; done
for f in run.json history.json latest.json; do cp "$run/$f" "$dest.tmp/"; done
rm -rf "$dest" && mv "$dest.tmp" "$dest"
echo "saved $run ($latest, best $best) -> $dest ($(du -sh "$dest" | cut -f1))"
