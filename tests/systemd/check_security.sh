#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Offline checks of latchkeyd.service and latchkeyd.socket, printed as TAP: the hardening score,
# systemd-analyze verify, and the socket paths. Reads the unit files only; changes nothing.
#
# usage: check_security.sh <path/to/latchkeyd.service> [<path/to/latchkeyd.socket>]
#        (the socket unit defaults to latchkeyd.socket next to the service)

set -u

max_exposure=2.5 # the ceiling docs/systemd.md promises; systemd-analyze's scale is 0.0-10.0

service=${1:?usage: check_security.sh <latchkeyd.service> [<latchkeyd.socket>]}
if [[ $service == */* ]]; then unit_dir=${service%/*}; else unit_dir=.; fi
socket=${2:-$unit_dir/latchkeyd.socket}

# Plain, untranslated, uncoloured output that we can parse.
export LC_ALL=C SYSTEMD_COLORS=0 SYSTEMD_PAGER='' SYSTEMD_LOG_COLOR=0

if ! command -v systemd-analyze >/dev/null 2>&1; then
    # Not a skip: a check that did not run proves nothing (./dev installs systemd).
    echo "1..1"
    echo "not ok 1 - systemd-analyze not found (install the systemd package)"
    exit 1
fi

tests=3
failed=0
n=0
echo "1..$tests"

ok() {
    n=$((n + 1))
    echo "ok $n - $1"
}

not_ok() {
    n=$((n + 1))
    failed=$((failed + 1))
    echo "not ok $n - $1"
}

# Print a command's output as TAP diagnostics, naming the files we were given, not our copies.
diag() {
    sed -e "s|$scratch/latchkeyd.service|$service|g" -e "s|$scratch/latchkeyd.socket|$socket|g" \
        -e 's/^/# /'
}

scratch=
for f in "$service" "$socket"; do
    if [[ ! -r $f ]]; then
        echo "Bail out! cannot read $f"
        exit 1
    fi
done

# Work on copies named as installed, so that verify resolves Requires=latchkeyd.socket against
# our socket unit (it looks next to the unit it is given) and the messages name the real units.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/latchkey-units.XXXXXX") || {
    echo "Bail out! mktemp failed"
    exit 1
}
trap 'rm -rf -- "$scratch"' EXIT
cp -- "$service" "$scratch/latchkeyd.service"
cp -- "$socket" "$scratch/latchkeyd.socket"

# 1. Overall exposure level <= max_exposure. --threshold takes tenths: exit status 1 above it.
threshold=$(awk -v m="$max_exposure" 'BEGIN { printf "%d", m * 10 + 0.5 }')
out=$(cd "$scratch" &&
    systemd-analyze security --offline=yes --threshold="$threshold" --no-pager \
        latchkeyd.service 2>&1)
status=$?
exposure=$(sed -n 's/.*Overall exposure level for [^:]*: *\([0-9][0-9]*\.[0-9]*\).*/\1/p' \
    <<<"$out" | tail -n 1)
if [[ -z $exposure ]]; then
    diag <<<"$out"
    not_ok "exposure of latchkeyd.service: no 'Overall exposure level' in the output"
else
    echo "# exposure $exposure"
    if [[ $status -eq 0 ]] && awk -v e="$exposure" -v m="$max_exposure" 'BEGIN { exit !(e <= m) }'; then
        ok "exposure of latchkeyd.service is $exposure <= $max_exposure"
    else
        grep -v '^+ ' <<<"$out" | diag # what still costs exposure
        not_ok "exposure of latchkeyd.service is $exposure, above $max_exposure (exit $status)"
    fi
fi

# 2. systemd-analyze verify: unknown keys, unparsable values, missing dependencies... The only
# message allowed is the ExecStart binary being absent (this runs before `meson install`).
out=$(cd "$scratch" && systemd-analyze verify latchkeyd.service latchkeyd.socket 2>&1)
status=$?
complaints=$(grep -Ev '^latchkeyd\.service: Command /[^ ]*/latchkeyd is not executable: No such file or directory$' \
    <<<"$out" | grep -v '^$')
if [[ -n $complaints ]]; then
    diag <<<"$complaints"
    not_ok "systemd-analyze verify latchkeyd.service latchkeyd.socket"
elif [[ $status -ne 0 && -z $out ]]; then
    echo "# systemd-analyze verify exited $status without saying why"
    not_ok "systemd-analyze verify latchkeyd.service latchkeyd.socket"
else
    [[ -n $out ]] && diag <<<"$out"
    ok "systemd-analyze verify latchkeyd.service latchkeyd.socket (apart from a missing binary)"
fi

# 3. The socket unit listens on the three paths latchkeyd expects, with no other ListenStream=.
# Comments and surrounding blanks are ignored; values are compared exactly.
listen=$(sed -n 's/^[[:space:]]*ListenStream[[:space:]]*=[[:space:]]*\([^[:space:]]*\)[[:space:]]*$/\1/p' \
    "$socket" | sort)
want=$(printf '%s\n' /run/latchkey/admin.sock /run/latchkey/nss.sock /run/latchkey/pam.sock)
if [[ $listen == "$want" ]]; then
    ok "latchkeyd.socket listens on /run/latchkey/pam.sock, admin.sock and nss.sock"
else
    echo "# ListenStream= found:"
    diag <<<"${listen:-(none)}"
    not_ok "latchkeyd.socket listens on /run/latchkey/pam.sock, admin.sock and nss.sock"
fi

[[ $n -eq $tests ]] || echo "# planned $tests checks, ran $n"
exit $((failed > 0 ? 1 : 0))
