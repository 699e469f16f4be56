#!/usr/bin/env bash
# The integration suite's tools besides Docker: nginx is the gRPC proxy of
# test/integration/proxy.spec.ts, openssl makes the TLS spec's certificates, PostgreSQL 15 backs the
# store spec and the multi-router specs (test/support/postgres.ts runs its initdb/pg_ctl as the
# postgres user; the package's own cluster is not used), nats-server is the mesh's presence and
# forwarding (test/support/nats-server.ts). On a Debian machine
# where we are root, missing ones are installed from Debian's packages.
set -euo pipefail

missing=()
[[ -x /usr/sbin/nginx ]] || command -v nginx >/dev/null || missing+=(nginx-light)
command -v openssl >/dev/null || missing+=(openssl)
[[ -x /usr/lib/postgresql/15/bin/initdb ]] || missing+=(postgresql)
command -v nats-server >/dev/null || missing+=(nats-server)
((${#missing[@]} == 0)) && exit 0

if [[ $(id -u) -ne 0 || ! -f /etc/debian_version ]]; then
  echo "ensure-test-tools: the tests need ${missing[*]}; install it (or run as root on Debian to have it installed)" >&2
  exit 1
fi
echo "ensure-test-tools: installing ${missing[*]} from Debian" >&2
# Another install (Docker's, another tool's) may hold dpkg's lock for a while: wait for it.
apt-get -o DPkg::Lock::Timeout=300 update -qq
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq "${missing[@]}" >/dev/null
