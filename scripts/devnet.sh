#!/usr/bin/env bash
# Installs what is missing, builds veche and runs a local network in the
# foreground on 127.0.0.1 (Ctrl-C stops it cleanly). The network lives in
# ./devnet (override with VECHE_DEVNET_DIR); it is created on first run and
# resumed afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target veche >/dev/null
DIR=${VECHE_DEVNET_DIR:-devnet}
if [ ! -f "$DIR/genesis.json" ]; then
  ./build/src/cli/veche init --dir "$DIR"
fi
echo "veche devnet in $DIR; the authority key is $DIR/authority.key. Ctrl-C to stop."
exec ./build/src/cli/veche start --dir "$DIR"
