#!/usr/bin/env bash
# The systemd user unit, with ExecStart pointing at this build, passes
# systemd-analyze verify.
# needs: built:hr-proxy cmd:systemd-analyze
. "$(dirname "$0")/lib.sh"
unit_dir=$(mktemp -d)
trap 'rm -rf "$unit_dir"' EXIT
sed "s|@BINDIR@|$PWD/$B|" scripts/hr-proxy.service.in > "$unit_dir/hr-proxy.service"
if out=$(systemd-analyze verify --man=no "$unit_dir/hr-proxy.service" 2>&1); then echo "ok systemd-analyze verify hr-proxy.service"
else echo "not ok systemd-analyze verify hr-proxy.service"; echo "$out" | head -5 | sed 's/^/  /'; fi
