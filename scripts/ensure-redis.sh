#!/usr/bin/env bash
# Start the local Redis (Debian's redis-server) unless one answers on 127.0.0.1:${REDIS_PORT:-6379}; prints
# its URL without a database number. Each test run or helper picks its own number (redis://...:6379/<n>, 64
# of them) so parallel runs never share keys. Nothing is persisted: it holds rate-limit counters only.
set -euo pipefail
PORT="${REDIS_PORT:-6379}"
if ! command -v redis-server >/dev/null 2>&1; then
  echo "redis-server is not installed (scripts/install-system-deps.sh installs it)." >&2
  exit 1
fi
answers() { [ "$(redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null)" = "PONG" ]; }
if ! answers; then
  dir="${REDIS_DIR:-${TMPDIR:-/tmp}/sofia-redis-$PORT}"
  mkdir -p "$dir"
  redis-server --port "$PORT" --bind 127.0.0.1 --daemonize yes --dir "$dir" --save "" --appendonly no \
    --databases 64 --logfile "$dir/redis.log" --pidfile "$dir/redis.pid" >&2
  for _ in $(seq 1 50); do
    answers && break
    sleep 0.1
  done
  answers || { echo "redis-server did not answer on port $PORT (log: $dir/redis.log)" >&2; exit 1; }
fi
echo "redis://127.0.0.1:$PORT"
