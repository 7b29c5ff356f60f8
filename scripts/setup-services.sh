#!/usr/bin/env bash
# Install and start what the test suite needs, idempotently: a Docker engine (Debian's docker.io),
# a locally built base image (no registry is reachable here), the sandbox image, and redis-server.
# Safe to run again: every step skips what is already there.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
log() { printf '[setup] %s\n' "$*" >&2; }

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need_pkgs+=(debootstrap)
command -v redis-server >/dev/null 2>&1 || need_pkgs+=(redis-server)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

# Docker engine: start dockerd in the background if nothing answers (no systemd here).
if ! docker info >/dev/null 2>&1; then
  log "starting dockerd"
  nohup dockerd >/var/log/dockerd.log 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { log "dockerd did not start; see /var/log/dockerd.log"; exit 1; }
fi

# redis-server on loopback for the scale-out queue tests.
if ! redis-cli -p 6379 ping >/dev/null 2>&1; then
  log "starting redis-server"
  redis-server --port 6379 --bind 127.0.0.1 --save '' --appendonly no --daemonize yes >/dev/null
fi

# Base image: built with debootstrap from the machine's own Debian mirror (read at run time).
BASE_IMAGE=${REVIEWBOT_SANDBOX_BASE_IMAGE:-reviewbot-base:bookworm}
if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  rootfs=$(mktemp -d /tmp/reviewbot-rootfs.XXXXXX)
  log "debootstrap bookworm from $mirror (about a minute)"
  debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,git,ca-certificates \
    bookworm "$rootfs" "$mirror" >/var/log/reviewbot-debootstrap.log 2>&1
  # Trust the same CA bundle as the host, so pip in the image works behind a TLS-inspecting proxy.
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  tar -C "$rootfs" -c . | docker import - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
fi

# The sandbox image on top of it.
SANDBOX_IMAGE=${REVIEWBOT_SANDBOX_IMAGE:-reviewbot-sandbox:latest}
# Rebuilt only when missing or when the Dockerfile changed (its hash is a label on the image).
if [ -f "$here/sandbox/Dockerfile" ]; then
  want=$(sha256sum "$here/sandbox/Dockerfile" | cut -c1-16)
  have=$(docker image inspect -f '{{ index .Config.Labels "reviewbot.dockerfile" }}' "$SANDBOX_IMAGE" 2>/dev/null || true)
  if [ "$have" != "$want" ]; then
    log "building $SANDBOX_IMAGE on $BASE_IMAGE"
    docker build -q -t "$SANDBOX_IMAGE" --build-arg BASE_IMAGE="$BASE_IMAGE" --label "reviewbot.dockerfile=$want" \
      -f "$here/sandbox/Dockerfile" "$here/sandbox" >/dev/null
  fi
fi
# The test environment is installed with the image's own pip: it must understand what projects
# declare (pip >= 25.1 reads PEP 735 dependency groups). An image built from an older Dockerfile
# has the wrong label and was rebuilt above; this catches a base image whose pip could not be upgraded.
if docker image inspect "$SANDBOX_IMAGE" >/dev/null 2>&1; then
  docker run --rm --network none --entrypoint python "$SANDBOX_IMAGE" -c \
    'import pip, sys; sys.exit(tuple(map(int, pip.__version__.split(".")[:2])) < (25, 1))' \
    || { log "$SANDBOX_IMAGE has a pip older than 25.1; rebuild it from sandbox/Dockerfile"; exit 1; }
fi
# Test-environment cache volumes (label reviewbot.env=1) are kept across runs on purpose; reviewbot
# evicts them least-recently-used first above sandbox.env_cache_mb. `docker volume rm` is safe.
log "services ready"
