# shellcheck shell=bash
# Sourced by compose-smoke.sh and bases.sh: podman's configuration for these machines, kept in one stable
# place (SMOKE_CACHE, default /var/cache/sofia-compose) so images and build layers are reused between runs.
#  - storage: overlay when the kernel lets us mount it (fast), else vfs (always works, copies every layer);
#    each driver has its own store (SMOKE_STORAGE_DRIVER=overlay|vfs forces one);
#  - containers.conf: no default ulimits (runc cannot set RLIMIT_NPROC here: "error setting rlimit type 7:
#    operation not permitted"), runc (crun refuses the hybrid cgroup layout), cgroupfs (no systemd),
#    netavark + aardvark-dns (service names resolve between containers), events to a file.
# scripts/install-system-deps.sh writes the same containers.conf to /etc/containers for podman used by hand.
SMOKE_CACHE="${SMOKE_CACHE:-/var/cache/sofia-compose}"
export SMOKE_CACHE
mkdir -p "$SMOKE_CACHE/tmp"

_smoke_overlay_works() {
  local dir
  dir="$(mktemp -d "$SMOKE_CACHE/tmp/ovl.XXXXXX")" || return 1
  mkdir -p "$dir/lower" "$dir/upper" "$dir/work" "$dir/merged"
  if mount -t overlay overlay -o "lowerdir=$dir/lower,upperdir=$dir/upper,workdir=$dir/work" "$dir/merged" \
    2>/dev/null; then
    umount "$dir/merged"
    rm -rf "$dir"
    return 0
  fi
  rm -rf "$dir"
  return 1
}

if [ -z "${SMOKE_STORAGE_DRIVER:-}" ]; then
  if _smoke_overlay_works; then SMOKE_STORAGE_DRIVER=overlay; else SMOKE_STORAGE_DRIVER=vfs; fi
fi
export SMOKE_STORAGE_DRIVER
mkdir -p "$SMOKE_CACHE/storage-$SMOKE_STORAGE_DRIVER"
cat >"$SMOKE_CACHE/storage-$SMOKE_STORAGE_DRIVER.conf.new" <<EOF
[storage]
driver = "$SMOKE_STORAGE_DRIVER"
graphroot = "$SMOKE_CACHE/storage-$SMOKE_STORAGE_DRIVER"
runroot = "/run/sofia-compose/storage-$SMOKE_STORAGE_DRIVER"
EOF
mv -f "$SMOKE_CACHE/storage-$SMOKE_STORAGE_DRIVER.conf.new" "$SMOKE_CACHE/storage-$SMOKE_STORAGE_DRIVER.conf"
cp "$(dirname "${BASH_SOURCE[0]}")/containers.conf" "$SMOKE_CACHE/containers.conf.new"
mv -f "$SMOKE_CACHE/containers.conf.new" "$SMOKE_CACHE/containers.conf"
export CONTAINERS_STORAGE_CONF="$SMOKE_CACHE/storage-$SMOKE_STORAGE_DRIVER.conf"
export CONTAINERS_CONF="$SMOKE_CACHE/containers.conf"
# Scratch space for builds and imports: next to the store, not in a possibly small /tmp.
export TMPDIR="$SMOKE_CACHE/tmp"
