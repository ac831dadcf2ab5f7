#!/usr/bin/env bash
# The README's first command. On a fresh Debian 12 machine, as root:
#
#   bash scripts/demo.sh
#
# installs what is missing (scripts/install-deps.sh), builds, starts the
# local server `oaibatch serve` with the built-in test model on a free port
# in a temporary data directory, runs the seed's basic batch example and the
# structured-output example through it, prints the results, and stops the
# server (also on error or Ctrl-C). No API key, no network past apt.
#
# Environment: OAB_BUILD_DIR (default build), OAB_SKIP_DEPS=1 to skip the
# package step, OAB_DEMO_NO_BUILD=1 to use what OAB_BUILD_DIR holds as is,
# OAB_DEMO_UPSTREAM (default builtin:test) to run the same against a model
# server, e.g. http://127.0.0.1:8000/v1 (with OAB_MODEL).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${OAB_BUILD_DIR:-build}
UPSTREAM=${OAB_DEMO_UPSTREAM:-builtin:test}

if [ -t 1 ]; then
  say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
  say() { printf '\n== %s\n' "$*"; }
fi

if [ "${OAB_SKIP_DEPS:-0}" != 1 ]; then
  say "Installing what is missing (Debian packages)"
  bash scripts/install-deps.sh
fi

if [ "${OAB_DEMO_NO_BUILD:-0}" != 1 ]; then
  say "Building in $BUILD"
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD" -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
fi

# `oaibatch serve`, or the stand-alone server when the command is not built
if [ -x "$BUILD/cli/oaibatch" ]; then
  SERVE=("$BUILD/cli/oaibatch" serve)
elif [ -x "$BUILD/server/oaibatch-server" ]; then
  SERVE=("$BUILD/server/oaibatch-server")
else
  echo "demo: neither $BUILD/cli/oaibatch nor $BUILD/server/oaibatch-server was built" >&2
  exit 1
fi
EX="$BUILD/examples"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/oaibatch-demo.XXXXXX")
SERVER_PID=""
cleanup() {
  local rc=$?
  if [ "$rc" -ne 0 ] && [ -s "$TMP/server.log" ]; then
    echo "demo: failed; the server's last log lines:" >&2
    tail -n 20 "$TMP/server.log" >&2
  fi
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "Starting the local server (upstream $UPSTREAM)"
"${SERVE[@]}" --host 127.0.0.1 --port 0 --data "$TMP/data" \
  --upstream "$UPSTREAM" --port-file "$TMP/port" 2>"$TMP/server.log" &
SERVER_PID=$!
for _ in $(seq 1 100); do
  [ -s "$TMP/port" ] && break
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "demo: the server did not start:" >&2
    cat "$TMP/server.log" >&2
    exit 1
  fi
  sleep 0.1
done
PORT=$(tr -dc '0-9' <"$TMP/port")
if [ -z "$PORT" ]; then
  echo "demo: the server wrote no port" >&2
  cat "$TMP/server.log" >&2
  exit 1
fi

# The examples read the server the way the official SDKs do. The local
# server needs no key; do not hand it a real one.
export OPENAI_BASE_URL="http://127.0.0.1:$PORT/v1"
unset OPENAI_API_KEY
export OAB_POLL_INTERVAL=0.2 OAB_WAIT_TIMEOUT=${OAB_WAIT_TIMEOUT:-300}
echo "OPENAI_BASE_URL=$OPENAI_BASE_URL"

say "1. The seed's basic example: three requests, submitted as one batch"
echo "\$ $EX/basic_batch"
OUT=$("$EX/basic_batch")
echo "$OUT"
BATCH_ID=$(printf '%s\n' "$OUT" | sed -n 's/^Batch job created: //p')
[ -n "$BATCH_ID" ] || { echo "demo: no batch id" >&2; exit 1; }

say "2. Its status"
echo "\$ $EX/check_status $BATCH_ID"
"$EX/check_status" "$BATCH_ID"

say "3. Its results (waits for the batch to end)"
echo "\$ $EX/get_results $BATCH_ID"
"$EX/get_results" "$BATCH_ID"

say "4. Structured output in the three modes: parsed, validated, decoded"
echo "\$ $EX/structured_output native tool prompted"
"$EX/structured_output" native tool prompted

say "Done"
echo "The server stops now. Point the same programs at OpenAI with"
echo "  unset OPENAI_BASE_URL; export OPENAI_API_KEY=sk-..."
