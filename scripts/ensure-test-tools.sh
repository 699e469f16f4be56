#!/usr/bin/env bash
# The integration suite's tools besides Docker: nginx is the gRPC proxy of
# test/integration/proxy.spec.ts, openssl makes the TLS spec's certificates, nats-server is the
# mesh's presence and forwarding in test/integration/several-routers.spec.ts. On a Debian machine
# where we are root, missing ones are installed from Debian's packages.
set -euo pipefail

missing=()
[[ -x /usr/sbin/nginx ]] || command -v nginx >/dev/null || missing+=(nginx-light)
command -v openssl >/dev/null || missing+=(openssl)
command -v nats-server >/dev/null || missing+=(nats-server)
((${#missing[@]} == 0)) && exit 0

if [[ $(id -u) -ne 0 || ! -f /etc/debian_version ]]; then
  echo "ensure-test-tools: the tests need ${missing[*]}; install it (or run as root on Debian to have it installed)" >&2
  exit 1
fi
echo "ensure-test-tools: installing ${missing[*]} from Debian" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
