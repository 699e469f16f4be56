#!/usr/bin/env bash
# Makes sure a Docker engine answers `docker info`. On a Debian machine where we are root and
# none runs, it installs Debian's docker.io (and busybox-static for the test image) and starts
# dockerd in the background, since these machines have no systemd.
set -euo pipefail

engine_answers() { docker info >/dev/null 2>&1; }

wait_for_engine() {
  local deadline=$((SECONDS + 60))
  until engine_answers; do
    if ((SECONDS > deadline)); then
      echo "ensure-docker: dockerd did not answer within 60 s; see /var/log/meshexec-dockerd.log" >&2
      exit 1
    fi
    sleep 0.1
  done
}

engine_answers && exit 0

if [[ $(id -u) -ne 0 || ! -f /etc/debian_version ]]; then
  echo "ensure-docker: no Docker engine answers 'docker info'. Start one (or run as root on Debian to have it installed)." >&2
  exit 1
fi

if ! command -v dockerd >/dev/null || ! command -v busybox >/dev/null; then
  echo "ensure-docker: installing docker.io and busybox-static from Debian" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io busybox-static >/dev/null
fi

echo "ensure-docker: starting dockerd in the background" >&2
nohup dockerd >/var/log/meshexec-dockerd.log 2>&1 &
wait_for_engine
