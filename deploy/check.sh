#!/usr/bin/env bash
# Prove what can be proven on a machine without a container runtime or a
# registry of base images (docs/deploy.md, "What was checked here").
#
#   deploy/check.sh            cheap checks: systemd unit, Helm chart lint + schema
#   deploy/check.sh --image    also (root, minutes): build the Dockerfile with podman
#                              on a Debian base made by debootstrap, then run the
#                              image's entrypoint in a chroot and ask /healthz
#
# Not part of `make test`: it installs Helm's SDK into a throwaway venv and the
# image proof needs root, podman, debootstrap and several minutes.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
work=${CHATGRID_CHECK_DIR:-/tmp/chatgrid-deploy-check}
python=${PYTHON:-$repo/.venv/bin/python}
mkdir -p "$work"

step() { printf '\n== %s\n' "$*"; }

step "systemd unit"
if command -v systemd-analyze >/dev/null; then
    unit="$here/systemd/chatgrid.service"
    if [ ! -x /opt/chatgrid/bin/chatgrid ]; then
        # verify checks that ExecStart exists: point it at this checkout's chatgrid.
        mkdir -p "$work/unit"
        sed "s#/opt/chatgrid/bin/chatgrid#$repo/.venv/bin/chatgrid#" "$unit" >"$work/unit/chatgrid.service"
        unit="$work/unit/chatgrid.service"
    fi
    systemd-analyze verify "$unit"
    echo "ok: systemd-analyze verify"
else
    echo "skipped: no systemd-analyze"
fi

step "Helm chart: lint, render, Kubernetes schemas"
if [ ! -x "$work/helm-venv/bin/python" ]; then
    "$python" -m venv "$work/helm-venv"
    "$work/helm-venv/bin/pip" install -q helm-python-sdk kubernetes-validate pyyaml
fi
"$work/helm-venv/bin/python" "$here/check_chart.py"

[ "${1:-}" = "--image" ] || exit 0

step "image: a Debian bookworm base from debootstrap"
# vfs: the storage driver that works without overlay mounts on these machines.
podman() { command podman --storage-driver vfs "$@"; }
base=localhost/chatgrid-base:bookworm
if ! podman image exists "$base"; then
    if [ ! -x "$work/rootfs/usr/bin/python3" ]; then
        debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
            bookworm "$work/rootfs" http://deb.debian.org/debian
    fi
    tar -C "$work/rootfs" -c . | podman import - "$base"
fi

step "image: wheels for the build (pip inside the build cannot reach the index here)"
# Resolved for the base's Python (Debian bookworm: 3.11.2, glibc 2.36): newer
# releases of some dependencies need Python 3.11.5+, and redis then needs async-timeout.
rm -rf "$work/wheels"
"$python" -m pip wheel -q --no-deps --wheel-dir "$work/wheels" "$repo"
platforms=()
for v in 36 35 34 33 32 31 30 29 28 27 26 25 24 23 22 21 20 19 18 17 12 5; do
    platforms+=(--platform "manylinux_2_${v}_x86_64")
done
platforms+=(--platform manylinux2014_x86_64 --platform manylinux1_x86_64 --platform linux_x86_64)
"$python" -m pip download -q -d "$work/wheels" --only-binary=:all: --python-version 3.11.2 \
    --implementation cp --abi cp311 --abi abi3 --abi none "${platforms[@]}" \
    "$work"/wheels/chatgrid-*.whl "setuptools>=69" wheel "async-timeout>=4.0.3"

step "image: podman build (chroot isolation: no container runtime needed; docker format keeps HEALTHCHECK)"
podman build --format docker --isolation chroot --network host -v "$work/wheels:/wheels:ro" \
    --build-arg BASE_IMAGE="$base" \
    --build-arg "PIP_INSTALL_OPTIONS=--no-index --find-links /wheels" \
    -f "$here/Dockerfile" -t localhost/chatgrid:check "$repo"

step "image: its entrypoint in a chroot, as its user, answers /healthz"
root=$(podman mount localhost/chatgrid:check 2>/dev/null || podman image mount localhost/chatgrid:check)
entrypoint=$(podman image inspect localhost/chatgrid:check --format '{{join .Config.Entrypoint " "}}')
user=$(podman image inspect localhost/chatgrid:check --format '{{.Config.User}}')
port=${CHECK_PORT:-18931}
mount --bind /proc "$root/proc"
mount --bind /dev "$root/dev"
data=$(mktemp -d "$root/tmp/data.XXXX")
chown "$user" "$data"
cleanup() {
    [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true
    wait 2>/dev/null || true
    umount "$root/proc" "$root/dev" 2>/dev/null || true
    podman image unmount localhost/chatgrid:check >/dev/null 2>&1 || true
}
trap cleanup EXIT
echo "entrypoint: $entrypoint (user $user)"
chroot_bin=$(command -v chroot)
env -i PATH=/opt/chatgrid/bin:/usr/bin:/bin CHATGRID_DATA_DIR="${data#"$root"}" \
    "$chroot_bin" --userspec="$user" "$root" $entrypoint --host 127.0.0.1 --port "$port" \
    >"$work/chroot-serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 60); do
    if "$python" -c "import urllib.request,sys; r=urllib.request.urlopen('http://127.0.0.1:$port/healthz', timeout=2); print(r.status, r.read().decode()); sys.exit(r.status != 200)" 2>/dev/null; then
        echo "ok: the image's entrypoint serves /healthz from the chroot"
        exit 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
done
echo "FAILED: /healthz did not answer; the server's log:"
tail -30 "$work/chroot-serve.log"
exit 1
