#!/bin/sh
# Test stand-in for UnifiedAgentConfigurator.sh (guest-contract.md, Linux step 5): "registers" with the
# configuration server when the passphrase file holds the passphrase this guest's CS accepts.
set -u
REGISTER_EXIT=0; REGISTER_PASSPHRASE_SHA256=''; REGISTER_SILENTLY_FAILS=0
[ -r /etc/pushinstall-test.conf ] && . /etc/pushinstall-test.conf
cs=''; file=''
while [ $# -gt 0 ]; do
  case "$1" in
    -i) cs="$2"; shift 2 ;;
    -P) file="$2"; shift 2 ;;
    *) echo "UnifiedAgentConfigurator: unknown option $1" >&2; exit 2 ;;
  esac
done
log=/var/log/ua_install.log
say() { echo "$(date '+%Y-%m-%d %H:%M:%S') configurator: $*" >> "$log"; }
[ -n "$cs" ] || { echo "missing -i <CS IP>" >&2; exit 2; }
[ -r "$file" ] || { echo "passphrase file $file not readable" >&2; exit 2; }
mode=$(stat -c %a "$file")
[ "$mode" = 600 ] || { echo "passphrase file must be private (mode 600), is $mode" >&2; exit 6; }
got=$(head -n 1 "$file" | tr -d '\r\n' | sha256sum | cut -d' ' -f1)
if [ -n "$REGISTER_PASSPHRASE_SHA256" ] && [ "$got" != "$REGISTER_PASSPHRASE_SHA256" ]; then
  say "registration with $cs refused: invalid passphrase"
  echo "Registration with the configuration server $cs failed: the passphrase is not valid." >&2
  exit 9
fi
[ "$REGISTER_EXIT" = 0 ] || { say "registration with $cs failed ($REGISTER_EXIT)"; echo "registration failed" >&2; exit "$REGISTER_EXIT"; }
# A configurator that claims success without recording it (the verification step must catch it).
[ "$REGISTER_SILENTLY_FAILS" = 1 ] && { echo "Agent registered."; exit 0; }
sed -i "s/^AGENT_CONFIGURATION_STATUS=.*/AGENT_CONFIGURATION_STATUS=Succeeded/" /usr/local/.vx_version
grep -q '^CS_IP=' /usr/local/.vx_version && sed -i "s/^CS_IP=.*/CS_IP=$cs/" /usr/local/.vx_version || echo "CS_IP=$cs" >> /usr/local/.vx_version
say "registered with configuration server $cs"
echo "Agent registered with the configuration server $cs."
exit 0
