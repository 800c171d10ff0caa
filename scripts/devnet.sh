#!/usr/bin/env bash
# Installs what is missing, builds veche and runs a local network in the
# foreground on 127.0.0.1: 4 validators and 1 observer, each its own process,
# with a live status line (height, peers, tx/s). Ctrl-C stops them all cleanly.
# The network lives in ./devnet (override with VECHE_DEVNET_DIR); it is created
# on first run and resumed afterwards. Node APIs: 127.0.0.1:8645..8649.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target veche >/dev/null
DIR=${VECHE_DEVNET_DIR:-devnet}
if [ ! -f "$DIR/genesis.json" ]; then
  ./build/src/cli/veche testnet --dir "$DIR" --validators 4 --observers 1
fi
if [ ! -d "$DIR/v0" ]; then # a one-node devnet from an older version
  exec ./build/src/cli/veche start --dir "$DIR"
fi
echo "veche devnet in $DIR; the founding authority's key is $DIR/authority.key."
exec ./build/src/cli/veche testnet run --dir "$DIR"
