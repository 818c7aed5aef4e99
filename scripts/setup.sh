#!/usr/bin/env bash
# Idempotent set-up: installs every dependency from Debian 12's packages (fast
# when they are already there), then configures and builds Toolmark.
#   scripts/setup.sh [--build-dir DIR] [--no-build] [extra cmake -D options]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir="$root/build"
do_build=1
cmake_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build_dir=$2; shift 2 ;;
    --no-build) do_build=0; shift ;;
    *) cmake_args+=("$1"); shift ;;
  esac
done

packages=(
  build-essential cmake ninja-build pkg-config git clang clang-format libclang-rt-14-dev
  libopencv-dev libpcl-dev libhdf5-dev libtbb-dev libfaiss-dev libopenblas-dev libomp-dev
  libsqlite3-dev libpq-dev postgresql-15 slurm-wlm munge zlib1g-dev libzip-dev libpugixml-dev nlohmann-json3-dev libcli11-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev zip unzip
  libcpp-httplib-dev libsodium-dev wrk chromium curl python3
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm (the review UI's libraries and its browser tests), from
# Debian unless a node with npm is there already.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The review UI's front-end libraries and playwright-core, pinned by
# tools/serve/ui/package-lock.json.
if [ ! -f "$root/tools/serve/ui/node_modules/.package-lock.json" ] ||
   [ "$root/tools/serve/ui/package-lock.json" -nt "$root/tools/serve/ui/node_modules/.package-lock.json" ]; then
  echo "setup: npm ci (tools/serve/ui/)"
  npm ci --prefix "$root/tools/serve/ui" --no-audit --no-fund --loglevel=error
fi

[ $do_build -eq 1 ] || exit 0
jobs=$(nproc)
cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "${cmake_args[@]}" >/dev/null
cmake --build "$build_dir" -j "$jobs"
