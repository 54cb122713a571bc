#!/usr/bin/env bash
# Ship a trained run: copy its best checkpoint (weights + topology, no optimizer
# state) with run.json/history.json/final.json into checkpoints/<name>/, then
# write its fixed-point export to checkpoints/<name>/export/ (not with
# --no-export: a teacher, which is only distilled from, ships without one).
#   usage: tools/scripts/ship-checkpoint.sh <run-dir> <name> [--no-export | pnpm export flags...]
set -euo pipefail
run=${1:?run directory}; name=${2:?checkpoint name}; shift 2
cd "$(dirname "$0")/../.."
dest=checkpoints/$name
best=$(node -e 'const l=require(process.argv[1]);if(!l.best)process.exit(1);console.log(l.best)' "$(realpath "$run")/latest.json")
rm -rf "$dest.tmp" && mkdir -p "$dest.tmp/$best"
cp "$run/$best/model.json" "$run/$best/weights.bin" "$run/$best/state.json" "$dest.tmp/$best/"
for f in run.json history.json final.json; do [ -f "$run/$f" ] && cp "$run/$f" "$dest.tmp/"; done
node -e 'const fs=require("fs");const p=process.argv[1]+"/latest.json";const l=JSON.parse(fs.readFileSync(process.argv[2]));fs.writeFileSync(p,JSON.stringify({...l,latest:l.best},null,2)+"\n")' "$dest.tmp" "$run/latest.json"
rm -rf "$dest" && mv "$dest.tmp" "$dest"
if [ "${1:-}" = "--no-export" ]; then exit 0; fi
pnpm -s export --checkpoint "$dest" --out "$dest/export" "$@"
