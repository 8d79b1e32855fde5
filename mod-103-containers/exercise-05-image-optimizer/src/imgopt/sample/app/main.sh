#!/bin/sh
# The sample service: prove the dependencies and the tool are in place, then answer.
set -eu
test -x /usr/local/bin/tool
test -n "$(find /opt/deps -name "*.gz")"
echo "sample app ok: $(find /opt/deps -name "*.gz" | wc -l) deps"
