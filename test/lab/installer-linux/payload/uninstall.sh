#!/bin/sh
# Test stand-in for uninstall.sh (asr-facts.md §7): removes the agent when called with -Y.
set -u
[ "${1:-}" = "-Y" ] || { echo "uninstall.sh: run with -Y to confirm" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "must run as root" >&2; exit 4; }
dir=$(sed -n 's/^INSTALLATION_DIR=//p' /usr/local/.vx_version 2>/dev/null)
rm -f /usr/local/.vx_version
[ -n "$dir" ] && rm -rf "$dir"
echo "$(date '+%Y-%m-%d %H:%M:%S') uninstalled" >> /var/log/ua_install.log
exit 0
