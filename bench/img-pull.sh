#!/bin/bash
# bench/img-pull.sh - img-pull against skopeo copy + umoci unpack, in one
# run, from a registry this script starts on 127.0.0.1 (Debian's
# docker-registry) and stops at the end (by PID).  Nothing leaves the machine.
#
# The image: 3 layers of about 33 MB of gzip each (random files, so gzip
# cannot shrink them: ~100 MB to fetch), pushed by skopeo.
#   minidock   img-pull REF into a fresh store: fetch, verify, unpack the
#              layers (img-unpack --layers): what `run REF` needs
#   reference  skopeo copy docker://REF oci:DIR, then umoci unpack
#   again      img-pull REF a second time, its layers present
# Targets (issue 14): minidock <= 0.5x the reference; again <= 0.05x.
# Not part of make check.
#
#   sudo bench/img-pull.sh [WORKDIR]     (default /var/tmp/minidock-bench-pull)
set -euo pipefail
cd "$(dirname "$0")/.."
W=${1:-/var/tmp/minidock-bench-pull}
RUNS=${RUNS:-3}
BIN=${MINIDOCK_BIN:-$PWD/bin}

[ "$(id -u)" -eq 0 ] || { echo "bench/img-pull.sh: run as root" >&2; exit 1; }
[ -x "$BIN/img-pull" ] || make -s
sh common/install-missing.sh docker-registry skopeo umoci python3 time

rm -rf "$W"
mkdir -p "$W"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
R=localhost:$PORT
cat > "$W/registry.yml" <<CONF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $W/registry
http:
  addr: 127.0.0.1:$PORT
CONF
docker-registry serve "$W/registry.yml" >"$W/registry.log" 2>&1 &
REG=$!
trap 'kill $REG 2>/dev/null; wait $REG 2>/dev/null || true' EXIT
for _ in $(seq 100); do python3 -c "import urllib.request; urllib.request.urlopen('http://$R/v2/')" 2>/dev/null && break; sleep 0.1; done

# The image, built with umoci: three layers of incompressible files.
echo "building a 3-layer image of ~100 MB (umoci), pushing it (skopeo)"
umoci init --layout "$W/src" >/dev/null
umoci new --image "$W/src:t" >/dev/null
for i in 1 2 3; do
	rm -rf "$W/bundle"
	umoci unpack --image "$W/src:t" "$W/bundle" >/dev/null
	mkdir -p "$W/bundle/rootfs/layer$i"
	for f in $(seq 8); do head -c 4M /dev/urandom > "$W/bundle/rootfs/layer$i/f$f"; done
	umoci repack --image "$W/src:t" "$W/bundle" >/dev/null
done
skopeo copy --quiet --dest-tls-verify=false "oci:$W/src:t" "docker://$R/bench:latest"

# best SECONDS of RUNS runs of a command (its setup not timed).
best() {
	local b=999999 t
	for _ in $(seq "$RUNS"); do
		"$1"
		/usr/bin/time -f %e -o "$W/time" $2 >/dev/null 2>&1
		t=$(tail -1 "$W/time")
		b=$(python3 -c "print(min($b, $t))")
	done
	echo "$b"
}
fresh_store() { rm -rf "$W/lib"; }
minidock_pull() { MINIDOCK_LIB_DIR=$W/lib "$BIN/img-pull" "$R/bench"; }
fresh_ref() { rm -rf "$W/oci" "$W/unpacked"; }
reference() {
	skopeo copy --quiet --src-tls-verify=false "docker://$R/bench" "oci:$W/oci:t" &&
		umoci unpack --image "$W/oci:t" "$W/unpacked"
}
nothing() { :; }

# /usr/bin/time runs a program: the functions go through bash -c.
export -f minidock_pull reference
export W R BIN
t_min=$(best fresh_store "bash -c minidock_pull")
t_ref=$(best fresh_ref "bash -c reference")
t_again=$(best nothing "bash -c minidock_pull")

printf '%-44s %8s s\n' "img-pull (fetch + verify + unpack)" "$t_min" \
	"skopeo copy + umoci unpack" "$t_ref" "img-pull again, layers present" "$t_again"
python3 -c "print('ratio %.2fx (target <= 0.5), again %.3fx (target <= 0.05)' % ($t_min / $t_ref, $t_again / $t_ref))"
