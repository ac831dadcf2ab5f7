#!/usr/bin/env bash
# Installs the build into a temporary prefix, then builds a small program
# against it three ways (pkg-config, find_package shared, find_package
# static) and runs each.
# Usage: test_install.sh BUILD_DIR SOURCE_DIR C_COMPILER [EXTRA_CFLAGS]
# (EXTRA_CFLAGS: the sanitizer flags when the build under test has them)
set -euo pipefail
build=$1 src=$2 cc=$3 extra=${4:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
libdir=$(find "$tmp/prefix" -name oaibatch.pc -printf '%h\n' | head -1)
test -f "$tmp/prefix/include/oaibatch.h"
# 1. pkg-config
PKG_CONFIG_PATH="$libdir" pkg-config --exists oaibatch
"$cc" -std=c11 -Wall -Werror $extra -o "$tmp/pc" "$src/tests/lib/install_consumer/consumer.c" \
  $(PKG_CONFIG_PATH="$libdir" pkg-config --cflags --libs oaibatch)
LD_LIBRARY_PATH="$tmp/prefix/lib:$libdir" "$tmp/pc" | grep -q '"custom_id":"math-question"'
# 2. find_package, shared and static
cmake -S "$src/tests/lib/install_consumer" -B "$tmp/cb" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$extra" -DCMAKE_EXE_LINKER_FLAGS="$extra" >/dev/null
cmake --build "$tmp/cb" >/dev/null
LD_LIBRARY_PATH="$libdir" "$tmp/cb/consumer_shared" | grep -q '"custom_id":"math-question"'
"$tmp/cb/consumer_static" | grep -q '"custom_id":"math-question"'
# only oab_ symbols are exported
so=$(find "$tmp/prefix" -name 'liboaibatch.so.*.*' | head -1)
bad=$(nm -D --defined-only "$so" | awk '{print $3}' | grep -v '^oab_' || true)
if [ -n "$bad" ]; then echo "exported non-oab_ symbols: $bad"; exit 1; fi
echo "install: 4 passed, 0 failed"
