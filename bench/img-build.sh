#!/bin/bash
# bench/img-build.sh - img-build on a 6-step Dockerfile over the busybox
# teaching image, cold (an empty store and cache) and warm (every step
# cached), side by side with buildah bud of the same Dockerfile (vfs
# storage, chroot isolation: what runs on a plain Debian VM).  Not part of
# make check.
#
#   sudo bench/img-build.sh [WORKDIR]      (default /var/tmp/minidock-bench-build)
#
# Targets (issue 13): cold build at most 0.5x buildah's; a fully cached
# rebuild at most 0.1x the cold build.  Best of RUNS (default 5).
# What makes img-build fast, and the measurements: bench/README.md.
set -eu
cd "$(dirname "$0")/.."
W=${1:-/var/tmp/minidock-bench-build}
RUNS=${RUNS:-5}
IB=$PWD/bin/img-build
BASE=$PWD/images/build/busybox-oci.tar

[ "$(id -u)" -eq 0 ] || { echo "bench/img-build.sh: run as root" >&2; exit 1; }
[ -x "$IB" ] || make -s bin/img-build
[ -f "$BASE" ] || make -s images
sh common/install-missing.sh buildah

rm -rf "$W"
mkdir -p "$W/ctx/site"
for i in $(seq 20); do echo "page $i" > "$W/ctx/site/page$i.html"; done
cat > "$W/ctx/Dockerfile" <<'DF'
ARG BASE
FROM $BASE
ENV SITE=/srv/www
COPY site /srv/www/
RUN for i in $(seq 200); do echo "line $i" >> /srv/www/log.txt; done && rm /srv/www/page1.html
RUN adduser -D -H web 2>/dev/null || echo "web:x:1000:1000::/srv:/bin/sh" >> /etc/passwd
CMD ["httpd", "-f", "-p", "80", "-h", "/srv/www"]
DF

# best_of CMD...: the smallest wall time (seconds) of RUNS runs, each
# preceded by the PREPARE function.
best_of() {
	local best= t0 t1 t i
	for ((i = 0; i < RUNS; i++)); do
		prepare
		t0=$(date +%s.%N)
		"$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
		t1=$(date +%s.%N)
		t=$(echo "$t1 - $t0" | bc -l)
		if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
	done
	printf '%.3f' "$best"
}

export MINIDOCK_LIB_DIR=$W/lib MINIDOCK_RUN_DIR=$W/run
BH=(buildah --root "$W/buildah" --runroot "$W/buildah-run" --storage-driver vfs)

# Cold: nothing in the store, nothing cached (the base image imported by
# FROM is part of the time, as buildah's pull from the oci-archive is).
prepare() { rm -rf "$W/lib" "$W/run"; }
cold=$(best_of "$IB" --build-arg BASE="$BASE" -t bench "$W/ctx")
# Warm: the same build again, every layer step cached.
prepare() { :; }
warm=$(best_of "$IB" --build-arg BASE="$BASE" -t bench "$W/ctx")

prepare() { "${BH[@]}" rmi -a -f >/dev/null 2>&1 || true; }
bh_cold=$(best_of "${BH[@]}" bud --isolation chroot --layers \
	--build-arg BASE="oci-archive:$BASE" -t bench "$W/ctx")
prepare() { :; }
bh_warm=$(best_of "${BH[@]}" bud --isolation chroot --layers \
	--build-arg BASE="oci-archive:$BASE" -t bench "$W/ctx")
"${BH[@]}" rmi -a -f >/dev/null 2>&1 || true

ratio() { echo "scale=2; $1 / $2" | bc -l | sed 's/^\./0./'; }
printf '%-28s %8s %8s\n' "" cold warm
printf '%-28s %7ss %7ss\n' "img-build" "$cold" "$warm"
printf '%-28s %7ss %7ss\n' "buildah bud (vfs, chroot)" "$bh_cold" "$bh_warm"
echo "img-build cold / buildah cold: $(ratio "$cold" "$bh_cold")x (target <= 0.5)"
echo "img-build warm / img-build cold: $(ratio "$warm" "$cold")x (target <= 0.1)"
rm -rf "$W"
