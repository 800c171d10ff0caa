#!/usr/bin/env bash
# The whole test suite: installs dependencies, builds a normal and an
# ASan+UBSan tree, runs every ctest test in each (unit, vectors, simulator, and
# the integration tests, whose node processes are then sanitized too), then
# builds the tree with clang (its warnings differ from gcc's) and runs each
# libFuzzer harness for a bounded number of inputs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
JOBS=$(nproc)

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$JOBS"
(cd build && ctest --output-on-failure -j"$JOBS" --timeout 900)

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DVECHE_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$JOBS"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
   ctest --output-on-failure -j"$JOBS" --timeout 900)

if [ -f tests/fuzz/CMakeLists.txt ]; then
  CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DVECHE_FUZZ=ON >/dev/null
  # Everything, so that clang's -Wall -Wextra -Werror also sees the whole tree
  # (it warns where gcc does not); only the harnesses run here, the rest is
  # tested above with gcc.
  cmake --build build-fuzz -j"$JOBS"
  (cd build-fuzz && ctest --output-on-failure -j"$JOBS" -L fuzz --timeout 900)
fi
