#!/usr/bin/env bash
# System packages the tests need: Chromium (e2e), nginx (config test), docker-compose (compose validation),
# PostgreSQL (second test pass), Redis (shared rate-limit cache of the two-replica test and the benchmark:
# scripts/ensure-redis.sh), wrk (HTTP benchmark, make bench), and for the compose demo under podman
# (scripts/compose-smoke.sh): podman with runc, netavark + aardvark-dns (service names between
# containers) and catatonit (`init: true`), podman-compose, mmdebstrap (local base images). Installs only
# what is missing; needs root (as on CI and the dev machines). Also writes podman's machine-wide settings
# for this kind of machine (see below).
set -euo pipefail

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
command -v pg_ctlcluster >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
for pkg in podman runc netavark aardvark-dns catatonit podman-compose mmdebstrap python3-yaml iptables; do
  installed "$pkg" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != "0" ]; then
    echo "Missing system packages: ${need[*]}. Install them (apt-get install ${need[*]}) or run as root." >&2
    exit 1
  fi
  echo "Installing system packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# podman on these machines (root, no systemd, a hybrid cgroup layout):
#  - no default ulimits: without it every container fails with "error setting rlimit type 7: operation not
#    permitted"; runc, since crun refuses the hybrid cgroup layout; cgroupfs and file events (no systemd);
#    netavark, whose aardvark-dns resolves service names between containers;
#  - storage: overlay where the kernel lets us mount it, vfs otherwise, in the store compose-smoke.sh keeps
#    (so `podman ps` / `podman logs` by hand see its containers).
# Written once; an existing file is left alone (compose-smoke.sh passes its own copies to podman anyway).
if [ "$(id -u)" = "0" ]; then
  mkdir -p /etc/containers
  if [ ! -f /etc/containers/containers.conf ]; then
    cp "$(dirname "$0")/compose-smoke/containers.conf" /etc/containers/containers.conf
    echo "Wrote /etc/containers/containers.conf"
  elif ! grep -q '^default_ulimits = \[\]' /etc/containers/containers.conf; then
    echo "warning: /etc/containers/containers.conf has no 'default_ulimits = []' under [containers];" \
      "containers may fail with 'error setting rlimit type 7' (compose-smoke.sh uses its own copy)" >&2
  fi
  if [ ! -f /etc/containers/storage.conf ]; then
    driver=vfs
    mkdir -p /var/cache/sofia-compose
    probe="$(mktemp -d /var/cache/sofia-compose/probe.XXXXXX)"
    mkdir -p "$probe/l" "$probe/u" "$probe/w" "$probe/m"
    if mount -t overlay overlay -o "lowerdir=$probe/l,upperdir=$probe/u,workdir=$probe/w" "$probe/m" 2>/dev/null; then
      umount "$probe/m"
      driver=overlay
    fi
    rm -rf "$probe"
    cat >/etc/containers/storage.conf <<EOF
# Written by scripts/install-system-deps.sh (Sofia Health Checkout): the store scripts/compose-smoke.sh uses.
[storage]
driver = "$driver"
graphroot = "/var/cache/sofia-compose/storage-$driver"
runroot = "/run/sofia-compose/storage-$driver"
EOF
    echo "Wrote /etc/containers/storage.conf ($driver)"
  fi
fi
