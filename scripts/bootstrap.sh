#!/bin/sh
# Idempotent set-up run before `npm start` (arg: start), `npm test` (arg: test) and `npm run demo` (arg: demo):
# installs npm dependencies when missing or stale, and the Debian packages the daemon (redis-server) or
# the test lab (redis-server, redis-sentinel, sshd, smbd, smbclient, busybox, python3-winrm, sudo, chromium) need;
# `bench` (the fleet benchmark) also needs sshpass and the OpenSSH client. As root on
# Debian/Ubuntu it installs them with apt-get; otherwise it prints the exact command and stops.
set -eu
cd "$(dirname "$0")/.."
mode="${1:-start}"

# 1. npm dependencies
if [ -L node_modules ] && [ -f node_modules/.package-lock.json ]; then
  # A git worktree sharing another checkout's node_modules: npm ci would empty that checkout's too.
  if [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "bootstrap: node_modules is a link to another checkout's; not reinstalling it (npm ci there if package-lock.json changed)" >&2
  fi
elif [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bootstrap: installing npm dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund >&2
fi

# 2. Debian packages
missing=""
need() { # need <command-or-path> <package>
  case "$1" in
    /*) [ -e "$1" ] || missing="$missing $2" ;;
    *) command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || missing="$missing $2" ;;
  esac
}
if [ "$mode" = "start" ]; then
  if [ -z "${REDIS_URL:-}" ] && [ -z "${REDIS_SENTINELS:-}" ] && ! grep -qs '^REDIS_\(URL\|SENTINELS\)=.' .env; then need redis-server redis-server; fi
else
  need redis-server redis-server
  need redis-sentinel redis-sentinel
  need /usr/sbin/sshd openssh-server
  need smbd samba
  need smbclient smbclient
  need /bin/busybox busybox-static
  need /usr/lib/python3/dist-packages/winrm/__init__.py python3-winrm
  need ip iproute2
  need /usr/bin/sudo sudo
  need openssl openssl
  need setarch util-linux
  if [ "$mode" = "bench" ]; then # bench/fleet.ts compares with what an administrator scripts
    need sshpass sshpass
    need scp openssh-client
  fi
  # The dashboard's browser tests (driven by playwright-core); the demo (arg: demo) needs the lab only.
  if [ "$mode" = "test" ]; then need /usr/bin/chromium chromium; fi
fi
if [ -n "$missing" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing Debian packages:$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $missing >&2
  else
    echo "bootstrap: missing Debian packages:$missing" >&2
    echo "  install them with: sudo apt-get install -y$missing" >&2
    exit 1
  fi
fi
