#!/usr/bin/env bash
# The compose demo for real, under podman: build both images, run docker-compose.yml, pay through it.
#
#   1. local base images (scripts/compose-smoke/bases.sh; cached, rebuilt when their recipe changes)
#   2. the project's two images, built with podman from backend/Dockerfile and frontend/Dockerfile with
#      the build arguments of docker-compose.yml + docker-compose.local-bases.yml (which only swaps image
#      sources); sizes, users and configuration checked
#   3. `podman-compose up`, stage by stage in depends_on order, each stage's own compose health checks
#      polled (podman has no systemd here to run them) before the next starts
#   4. the shopper's path through the published ports: the SPA from nginx, a booking through the API, a
#      card payment and an HSA/FSA payment on the sandbox's hosted pages, each appointment `confirmed` by
#      the sandbox's webhook to the backend container
#      and its confirmation email in the mail catcher (the sandbox's sink standing in for Mailpit)
#   5. `podman-compose down -v`; on any failure the containers' logs are printed first
#
# Needs root, podman, podman-compose, mmdebstrap, docker-compose (to merge the compose files), npm
# (scripts/install-system-deps.sh installs them). Published ports 5173, 8000, 8100, 8025 must be free.
# Environment: SMOKE_CACHE (/var/cache/sofia-compose: podman's store and the bases), SMOKE_KEEP=1 (leave
# the demo running), SMOKE_STORAGE_DRIVER, SMOKE_HEALTH_TIMEOUT, SMOKE_MAX_BACKEND_MB, SMOKE_MAX_FRONTEND_MB,
# and bases.sh's SMOKE_* settings. With Docker and registry access, see docs/deploy.md instead.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
HERE="$REPO/scripts/compose-smoke"
PROJECT=sofia-smoke
OVERRIDE=docker-compose.local-bases.yml
MAX_BACKEND_MB="${SMOKE_MAX_BACKEND_MB:-450}"
MAX_FRONTEND_MB="${SMOKE_MAX_FRONTEND_MB:-200}"
STARTED=$SECONDS
STEP_STARTED=$SECONDS
TIMES=()

log() { printf 'compose-smoke: %s\n' "$*"; }
die() { printf 'compose-smoke: FAILED: %s\n' "$*" >&2; exit 1; }
step() {
  if [ -n "${STEP_NAME:-}" ]; then TIMES+=("$STEP_NAME $((SECONDS - STEP_STARTED))s"); fi
  STEP_NAME="$1"
  STEP_STARTED=$SECONDS
  log "== $1"
}

[ "$(id -u)" = "0" ] || die "run as root (podman's store and mmdebstrap need it)"
for tool in podman podman-compose mmdebstrap docker-compose npm python3; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is missing: bash scripts/install-system-deps.sh"
done
python3 -c 'import yaml' 2>/dev/null || die "python3-yaml is missing: apt-get install python3-yaml"

# shellcheck source=scripts/compose-smoke/podman-env.sh
. "$HERE/podman-env.sh"
WORK="$SMOKE_CACHE/run"
mkdir -p "$WORK"
# One run at a time on a machine (the ports, the project name and the store are shared). A pid file, not
# flock: an inherited lock descriptor would outlive this script in the containers' monitor processes.
LOCK="$SMOKE_CACHE/run.pid"
for _ in $(seq 1200); do
  if (set -o noclobber && echo $$ >"$LOCK") 2>/dev/null; then break; fi
  holder="$(cat "$LOCK" 2>/dev/null || true)"
  if [ -n "$holder" ] && ! kill -0 "$holder" 2>/dev/null; then rm -f "$LOCK"; continue; fi
  sleep 1
done
[ "$(cat "$LOCK" 2>/dev/null)" = "$$" ] || die "another compose-smoke run (pid $(cat "$LOCK")) is still going"
trap 'rm -f "$LOCK"' EXIT
trap 'exit 130' INT TERM
rm -f "$WORK"/build-*.log

# The compose project runs from a copy of the two compose files (byte for byte) in a directory of its
# own, with a clean environment: a developer's .env or exported settings must not change the demo that
# is tested (docker-compose and podman-compose both read them). backend/ and frontend/ are links, so the
# build contexts resolve as in the repository.
PROJECT_DIR="$SMOKE_CACHE/project"
mkdir -p "$PROJECT_DIR"
cp "$REPO/docker-compose.yml" "$REPO/$OVERRIDE" "$PROJECT_DIR/"
ln -sfn "$REPO/backend" "$PROJECT_DIR/backend"
ln -sfn "$REPO/frontend" "$PROJECT_DIR/frontend"
ln -sfn "$REPO/deploy" "$PROJECT_DIR/deploy"
rm -f "$PROJECT_DIR/.env"
clean_env=(env -i "PATH=$PATH" "HOME=${HOME:-/root}" "LANG=C.UTF-8" "TMPDIR=$TMPDIR"
  "CONTAINERS_CONF=$CONTAINERS_CONF" "CONTAINERS_STORAGE_CONF=$CONTAINERS_STORAGE_CONF")
# podman-compose runs the merged, interpolated file that `docker-compose config` prints (podman-compose
# 1.0.3 would leave every `${NAME:-}` with an empty default uninterpolated, as a literal string).
CONFIG="$WORK/compose.config.yml"
COMPOSE=(podman-compose -p "$PROJECT" -f "$CONFIG")
SMOKE_COMPOSE="$(printf '%q ' "${clean_env[@]}" "${COMPOSE[@]}")"
export SMOKE_PROJECT="$PROJECT" SMOKE_COMPOSE SMOKE_COMPOSE_LOG="$WORK/compose.log"

containers() {
  podman ps -a --format '{{.Names}}' --filter "label=io.podman.compose.project=$PROJECT" 2>/dev/null || true
}

teardown() {
  if [ -f "$CONFIG" ]; then
    "${clean_env[@]}" "${COMPOSE[@]}" down -v >>"$WORK/compose.log" 2>&1 || true
  fi
  # Whatever an interrupted run or podman-compose 1.0.3 leaves behind (it keeps the network).
  local left
  mapfile -t left < <(containers)
  [ ${#left[@]} -eq 0 ] || podman rm -f "${left[@]}" >/dev/null 2>&1 || true
  podman volume rm -f "${PROJECT}_db-data" >/dev/null 2>&1 || true
  podman network rm -f "${PROJECT}_default" >/dev/null 2>&1 || true
}

dump_logs() {
  local name
  for name in $(containers); do
    printf '\n----- %s (%s) -----\n' "$name" \
      "$(podman inspect --format '{{.State.Status}}, exit {{.State.ExitCode}}' "$name" 2>/dev/null)"
    podman logs --tail 150 "$name" 2>&1 || true
  done
  if [ -n "$(containers)" ] && [ -s "$WORK/compose.log" ]; then
    printf '\n----- podman-compose (last lines) -----\n'
    tail -n 40 "$WORK/compose.log"
  fi
}

on_exit() {
  local status=$?
  trap - EXIT
  # A base still being made in the background (its own process group) goes with us.
  if [ -n "${POSTGRES_BASE_PID:-}" ] && kill -0 "$POSTGRES_BASE_PID" 2>/dev/null; then
    kill -- "-$POSTGRES_BASE_PID" 2>/dev/null || true
  fi
  if [ "$status" -ne 0 ]; then
    log "failed during '${STEP_NAME:-start}' after $((SECONDS - STARTED)) s"
    if [ -n "$(containers)" ]; then
      log "the containers' state and logs:"
      dump_logs
    fi
  fi
  if [ "$status" -ne 0 ] || [ "${SMOKE_KEEP:-0}" != "1" ]; then
    teardown
  fi
  rm -f "$LOCK"
  exit "$status"
}

# --- 0. a clean slate: a run that was interrupted may have left the project up ----------------------
teardown
trap on_exit EXIT
# The published ports must be free (another `make run` may hold them for a while: wait a minute).
for port in 5173 8000 8100 8025; do
  for _ in $(seq 60); do
    ss -Htln "sport = :$port" 2>/dev/null | grep -q . || continue 2
    sleep 1
  done
  die "port $port is in use (the demo publishes 5173, 8000, 8100 and 8025): $(ss -Htlnp "sport = :$port" | head -n 1)"
done

: >"$WORK/compose.log"

# --- 1. local base images ------------------------------------------------------------------------------
# The images' bases first; PostgreSQL's and Redis's are only needed at `up`, so they are made while the
# images build.
step "base images"
bash "$HERE/bases.sh" python node nginx
setsid bash "$HERE/bases.sh" postgres redis >"$WORK/bases-postgres.log" 2>&1 &
POSTGRES_BASE_PID=$!

# --- 2. the project's images -----------------------------------------------------------------------------
step "build images"
(cd "$PROJECT_DIR" && "${clean_env[@]}" docker-compose -f docker-compose.yml -f "$OVERRIDE" config >"$CONFIG")
mapfile -t BUILDS < <(python3 "$HERE/smoke.py" builds "$CONFIG")
[ ${#BUILDS[@]} -ge 2 ] || die "expected two images to build, got: ${BUILDS[*]}"
# RUN steps reach PyPI and the npm registry with the host's CA bundle (it may hold a proxy's CA); the
# local bases point pip and npm at that path. The bundle is mounted, never copied into an image.
mounts=()
[ -f /etc/ssl/certs/ca-certificates.crt ] &&
  mounts+=(-v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro)
pids=()
images=()
for line in "${BUILDS[@]}"; do
  IFS=$'\t' read -r -a fields <<<"$line"
  image="${fields[0]}" context="${fields[1]}" dockerfile="${fields[2]}"
  args=()
  for arg in "${fields[@]:3}"; do args+=(--build-arg "$arg"); done
  name="$(basename "${image%%:*}")"
  images+=("$image")
  log "podman build $image (${fields[*]:3})"
  (
    started=$SECONDS
    podman build --pull=never --layers --format docker "${mounts[@]}" "${args[@]}" -t "$image" \
      -f "$dockerfile" "$context"
    echo "built in $((SECONDS - started)) s"
  ) >"$WORK/build-$name.log" 2>&1 &
  pids+=($!)
done
failed=0
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    name="$(basename "${images[$i]%%:*}")"
    tail -n 60 "$WORK/build-$name.log" >&2
    log "building ${images[$i]} failed (whole log: $WORK/build-$name.log)"
    failed=1
  fi
done
[ "$failed" = 0 ] || die "image build failed"
for image in "${images[@]}"; do
  log "$image $(tail -n 1 "$WORK/build-$(basename "${image%%:*}").log")"
done
# Keep the layer cache of recent builds, drop what older builds and replaced bases left untagged.
podman image prune -f --filter until=72h >/dev/null 2>&1 || true

step "check images"
for image in "${images[@]}"; do
  bytes="$(podman image inspect --format '{{.Size}}' "$image")"
  mb=$((bytes / 1000 / 1000))
  user="$(podman image inspect --format '{{.Config.User}}' "$image")"
  log "image $image: ${mb} MB, runs as user '${user}'"
  case "${user%%:*}" in "" | root | 0) die "$image runs as root" ;; esac
  limit="$MAX_BACKEND_MB"
  [[ "$image" == *frontend* ]] && limit="$MAX_FRONTEND_MB"
  [ "$mb" -le "$limit" ] || die "$image is ${mb} MB, over the ${limit} MB this check allows"
  if podman image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$image" |
    grep -iE '^[^=]*(SECRET|PASSWORD|_KEY|TOKEN)[^=]*='; then
    die "$image carries a secret-looking setting in its configuration"
  fi
  if podman run --rm --no-healthcheck --entrypoint /bin/sh "$image" -c \
    'find / -xdev \( -name .env -o -name "*.sqlite3" -o -name node_modules -o -name .venv \) -print 2>/dev/null |
     grep -v "^/usr/lib/node_modules\|^/usr/local/lib/node_modules" | grep -q .'; then
    die "$image holds a .env, a SQLite database, a .venv or node_modules"
  fi
done

# --- 3. the demo ---------------------------------------------------------------------------------------
step "compose up"
if ! wait "$POSTGRES_BASE_PID"; then
  cat "$WORK/bases-postgres.log" >&2
  die "the PostgreSQL or Redis base image could not be made"
fi
cat "$WORK/bases-postgres.log"
python3 "$HERE/smoke.py" up "$CONFIG"
podman ps --filter "label=io.podman.compose.project=$PROJECT" --format '  {{.Names}}\t{{.Image}}\t{{.Ports}}'

# --- 4. the shopper's path -------------------------------------------------------------------------------
step "payments through the demo"
python3 "$HERE/smoke.py" flow "$CONFIG"
for service in backend frontend; do
  uid="$(podman exec "$(podman ps --format '{{.Names}}' --filter "label=io.podman.compose.project=$PROJECT" \
    --filter "label=com.docker.compose.service=$service")" id -u)"
  [ "$uid" != "0" ] || die "the $service container runs as root"
done
# The replicas counted the flow's rate limits in the one Redis (DRF's throttle keys), not each in its memory.
redis_keys="$(podman exec "$(podman ps --format '{{.Names}}' --filter "label=io.podman.compose.project=$PROJECT" \
  --filter "label=com.docker.compose.service=redis")" redis-cli --scan --pattern '*throttle_*' | wc -l)"
[ "$redis_keys" -gt 0 ] || die "no rate-limit counter in Redis after the flow: the replicas count alone"
log "Redis holds $redis_keys rate-limit counters shared by the replicas"
# A service that crashed and was restarted by its restart policy would hide behind a passing flow.
for name in $(containers); do
  state="$(podman inspect --format '{{.State.Status}} {{.RestartCount}}' "$name")"
  [ "$state" = "running 0" ] || die "$name is '$state' (status, restarts) after the flow"
done

# --- 5. down ---------------------------------------------------------------------------------------------
step "compose down"
if [ "${SMOKE_KEEP:-0}" = "1" ]; then
  log "SMOKE_KEEP=1: the demo stays up (podman-compose -p $PROJECT ... down -v to stop it)"
else
  teardown
  [ -z "$(containers)" ] || die "containers left after down: $(containers)"
  ! podman volume exists "${PROJECT}_db-data" || die "the database volume is left after down -v"
fi
step "finished"
log "timings: ${TIMES[*]}"
log "passed in $((SECONDS - STARTED)) s"
