#!/usr/bin/env bash
# Quick start (1): set up, build, and run the main job on the embedded default:
# a fresh demo database under build/, filled from ../shared/datasets.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
rm -rf "$root/build/demo-db"
cd "$root"
exec "$root/build/tools/toolmark" demo --db "$root/build/demo-db" "$@"
