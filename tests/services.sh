#!/usr/bin/env bash
# What the replica tests need besides Python: PostgreSQL and nginx from Debian. Installed here when this runs as
# root with apt-get (CI, a fresh machine); otherwise say how, and those tests skip with the same message.
set -u
missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || missing+=(postgresql)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing ${missing[*]} for the replica tests (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    # Only the binaries are wanted: no service is started (policy-rc.d), the tests run their own.
    policy=/usr/sbin/policy-rc.d
    made_policy=
    if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && made_policy=1; fi
    { apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
        || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; }; } \
        || echo "could not install ${missing[*]}: the replica tests will be skipped"
    [ -n "$made_policy" ] && rm -f "$policy"
else
    echo "the replica tests need ${missing[*]}: sudo apt-get install ${missing[*]} (skipped until then)"
fi
exit 0
