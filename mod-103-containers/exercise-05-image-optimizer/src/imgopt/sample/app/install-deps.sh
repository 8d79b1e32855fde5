#!/bin/sh
# A tiny package manager for the sample: "downloads" each requirement into a cache
# (random bytes, size in KiB from the requirements file), then "installs" it by
# compressing a slice into /opt/deps. It costs real CPU time, like pip building wheels.
set -eu
mkdir -p /var/cache/deps /opt/deps
while read -r name kib; do
  [ -n "$name" ] || continue
  dd if=/dev/urandom of="/var/cache/deps/$name.tar" bs=1024 count="$kib" 2>/dev/null
  head -c 262144 "/var/cache/deps/$name.tar" | gzip -9 > "/opt/deps/$name.gz"
  sha256sum "/var/cache/deps/$name.tar" > /dev/null
done < "$1"
echo "installed $(find /opt/deps -name "*.gz" | wc -l) packages"
