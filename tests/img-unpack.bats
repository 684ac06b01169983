#!/usr/bin/env bats
# img-unpack.bats - what a user of img-unpack observes: every image format
# gives the tree the image was built from (names, types, modes, owners,
# times, contents), whiteouts work, digests are checked, hostile images
# write nothing outside DEST, bad input is refused with 125 and leaves no
# half-written DEST, and --layers gives what overlayfs stacks.
#
# The teaching images come from images/mkimages.py (images/README.md);
# the hostile ones are made here, by mkimage below.

load helpers
load image-trees
bats_require_minimum_version 1.5.0

setup() {
	common_setup
	IU=$MINIDOCK_BIN/img-unpack
	[ -x "$IU" ] || skip "no $IU (make)"
	[ -f "$IMAGES/images.done" ] || skip "no teaching images (make images)"
	SRC=$IMAGES/src
	D=$TEST_TMP/dest
	OUT=$TEST_TMP/outside       # what a hostile image must never reach
	mkdir -p "$OUT"
	echo untouched > "$OUT/victim"
}

teardown() { common_teardown; }

# The outside directory holds exactly its victim, unchanged.
assert_outside_untouched() {
	assert_equal "$(ls -A "$OUT")" victim
	assert_equal "$(cat "$OUT/victim")" untouched
}

# DEST is gone after a failure.
assert_no_dest() {
	[ ! -e "$D" ] || fail "$D was left behind: $(ls -A "$D" | head -5)"
}

# mkimage oci|tar|tgz PATH LAYERS [OPTIONS]: an image of hand-made layers.
# LAYERS is a JSON list of layers, each a list of entries:
#   ["file", NAME, DATA]  ["dir", NAME]  ["sym", NAME, TARGET]
#   ["link", NAME, TARGET] (hard link)   ["fifo", NAME]
# oci: an OCI layout directory (gzip layers); tar/tgz: the first layer alone,
# as a rootfs tarball.  OPTIONS (JSON): {"bad_diff_id": true}
mkimage() {
	python3 - "$@" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
kind, path, layers = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
opts = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}

def layer_tar(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for e in entries:
            ti = tarfile.TarInfo(e[1])
            ti.mtime, ti.mode = 946684800, 0o755 if e[0] == "dir" else 0o644
            data = b""
            if e[0] == "file":
                data = e[2].encode(); ti.size = len(data)
            elif e[0] == "dir": ti.type = tarfile.DIRTYPE
            elif e[0] == "sym": ti.type, ti.linkname = tarfile.SYMTYPE, e[2]
            elif e[0] == "link": ti.type, ti.linkname = tarfile.LNKTYPE, e[2]
            elif e[0] == "fifo": ti.type = tarfile.FIFOTYPE
            t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()

def gz(b):
    o = io.BytesIO()
    with gzip.GzipFile(fileobj=o, mode="wb", mtime=0) as f: f.write(b)
    return o.getvalue()

tars = [layer_tar(l) for l in layers]
if kind in ("tar", "tgz"):
    open(path, "wb").write(tars[0] if kind == "tar" else gz(tars[0]))
    sys.exit(0)
blobs = {}
def blob(b):
    h = hashlib.sha256(b).hexdigest(); blobs[h] = b
    return {"digest": "sha256:" + h, "size": len(b)}
diff_ids = ["sha256:" + hashlib.sha256(t).hexdigest() for t in tars]
if opts.get("bad_diff_id"):
    diff_ids[0] = "sha256:" + "0" * 64
config = json.dumps({"architecture": "amd64", "os": "linux",
                     "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
ls = [dict(blob(gz(t)), mediaType="application/vnd.oci.image.layer.v1.tar+gzip") for t in tars]
m = json.dumps({"schemaVersion": 2, "config": dict(blob(config),
               mediaType="application/vnd.oci.image.config.v1+json"), "layers": ls}).encode()
md = dict(blob(m), mediaType="application/vnd.oci.image.manifest.v1+json")
os.makedirs(path + "/blobs/sha256")
for h, b in blobs.items():
    open(path + "/blobs/sha256/" + h, "wb").write(b)
open(path + "/index.json", "w").write(json.dumps({"schemaVersion": 2, "manifests": [md]}))
open(path + "/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
PY
}

# The hex of the blob a layout's first manifest names as layer N (0-based).
layer_blob() {
	python3 -c '
import json, sys
d = sys.argv[1]
idx = json.load(open(d + "/index.json"))
m = json.load(open(d + "/blobs/sha256/" + idx["manifests"][0]["digest"][7:]))
print(m["layers"][int(sys.argv[2])]["digest"][7:])' "$1" "$2"
}

# ---- every format gives the tree the image was built from ----

@test "docker save (legacy layout, manifest.json + <id>/layer.tar): the busybox tree" {
	run -0 "$IU" --verbose "$IMAGES/busybox.tar" "$D"
	assert_output --partial "docker save archive before Docker 25"
	assert_same_tree "$D" "$SRC/busybox"
}

@test "docker save whose layer.tar is a symlink or a hard link to another (shared layers)" {
	mkdir "$TEST_TMP/x"
	tar -xf "$IMAGES/busybox.tar" -C "$TEST_TMP/x"
	local id other third
	id=$(cd "$TEST_TMP/x" && ls -d */ | head -1 | tr -d /)
	other=$(printf 'a%.0s' $(seq 64))     # layer ids are 64 hex digits
	third=$(printf 'b%.0s' $(seq 64))
	mkdir "$TEST_TMP/x/$other" "$TEST_TMP/x/$third"
	ln -s "../$id/layer.tar" "$TEST_TMP/x/$other/layer.tar"
	sed -i "s|$id/layer.tar|$other/layer.tar|" "$TEST_TMP/x/manifest.json"
	tar -cf "$TEST_TMP/sym.tar" -C "$TEST_TMP/x" .
	run -0 "$IU" "$TEST_TMP/sym.tar" "$D"
	assert_same_tree "$D" "$SRC/busybox"
	ln "$TEST_TMP/x/$id/layer.tar" "$TEST_TMP/x/$third/layer.tar"
	sed -i "s|$other/layer.tar|$third/layer.tar|" "$TEST_TMP/x/manifest.json"
	tar -cf "$TEST_TMP/hard.tar" -C "$TEST_TMP/x" .
	tar -tvf "$TEST_TMP/hard.tar" | grep -q "^h.*$third/layer.tar link to" ||
		tar -tvf "$TEST_TMP/hard.tar" | grep -q "^h.*$id/layer.tar link to" ||
		fail "tar wrote no hard link"
	run -0 "$IU" "$TEST_TMP/hard.tar" "$TEST_TMP/d2"
	assert_same_tree "$TEST_TMP/d2" "$SRC/busybox"
}

@test "docker save of Docker 25 (OCI layout, nested image index of containerd): the busybox tree" {
	run -0 "$IU" --verbose "$IMAGES/busybox-docker25.tar" "$D"
	assert_output --partial "docker save archive of Docker 25+"
	assert_output --partial "image index"
	assert_output --partial "sha256 verified"
	assert_same_tree "$D" "$SRC/busybox"
}

@test "OCI layout, as a directory and as a tar: the busybox tree" {
	run -0 "$IU" "$IMAGES/busybox-oci" "$D"
	assert_same_tree "$D" "$SRC/busybox"
	run -0 "$IU" "$IMAGES/busybox-oci.tar" "$TEST_TMP/d2"
	assert_same_tree "$TEST_TMP/d2" "$SRC/busybox"
}

# ---- archives written by the real tools (skopeo, umoci) ----

@test "skopeo docker-archive (<sha256>.tar layers first, <id>/layer.tar symlinks, manifest.json last): the tree umoci unpacks" {
	umoci_image "$TEST_TMP/src"
	skopeo copy --quiet "oci:$TEST_TMP/src:t" "docker-archive:$TEST_TMP/da.tar:t:latest"
	# What made img-unpack take it for a root filesystem: a layer comes first.
	tar -tf "$TEST_TMP/da.tar" | head -1 | grep -Eq '^[0-9a-f]{64}\.tar$' ||
		fail "skopeo wrote another layout: $(tar -tf "$TEST_TMP/da.tar")"
	run -0 "$IU" --inspect "$TEST_TMP/da.tar"
	assert_output --partial "docker-archive as skopeo and podman write it"
	assert_output --partial "layers:      2"
	refute_output --partial "root filesystem"
	run -0 "$IU" "$TEST_TMP/da.tar" "$D"
	assert_same_tree "$D" "$TEST_TMP/ref/rootfs"
	[ ! -e "$D/data/gone" ] || fail "the whiteout of the second layer was not applied"
	# From standard input too (a pipe: the first member decides, spooled).
	run -0 "$IU" -v - "$TEST_TMP/d2" < <(cat "$TEST_TMP/da.tar")
	assert_output --partial "spooled to a temporary file"
	assert_same_tree "$TEST_TMP/d2" "$TEST_TMP/ref/rootfs"
}

@test "skopeo oci-archive, oci and dir, and umoci's own layout: the tree umoci unpacks" {
	umoci_image "$TEST_TMP/src"
	skopeo copy --quiet "oci:$TEST_TMP/src:t" "oci-archive:$TEST_TMP/oa.tar:t"
	skopeo copy --quiet "oci:$TEST_TMP/src:t" "oci:$TEST_TMP/ol:t"
	skopeo copy --quiet "oci:$TEST_TMP/src:t" "dir:$TEST_TMP/dd"
	local x
	for x in oa.tar ol dd src; do
		run -0 "$IU" "$TEST_TMP/$x" "$TEST_TMP/unpacked-$x"
		assert_same_tree "$TEST_TMP/unpacked-$x" "$TEST_TMP/ref/rootfs"
	done
	run -0 "$IU" --inspect "$TEST_TMP/dd"
	assert_output --partial "skopeo dir"
}

@test "a tar holding manifest.json or index.json at its top is never a root filesystem, wherever they come" {
	# Member order: a file of a would-be rootfs first, manifest.json last.
	mkdir -p "$TEST_TMP/x/bin"
	echo '[]' > "$TEST_TMP/x/manifest.json"
	echo hi > "$TEST_TMP/x/bin/sh"
	tar -cf "$TEST_TMP/m.tar" -C "$TEST_TMP/x" bin manifest.json
	run -125 "$IU" "$TEST_TMP/m.tar" "$D"
	assert_output --partial "manifest.json lists no image"
	assert_no_dest
	rm "$TEST_TMP/x/manifest.json"
	echo '{"schemaVersion":2,"manifests":[]}' > "$TEST_TMP/x/index.json"
	tar -cf "$TEST_TMP/i.tar" -C "$TEST_TMP/x" bin index.json
	run -125 "$IU" "$TEST_TMP/i.tar" "$D"
	assert_output --partial "index.json lists no image"
	assert_no_dest
	# The same files below a directory are a root filesystem's.
	mkdir "$TEST_TMP/x/etc" && mv "$TEST_TMP/x/index.json" "$TEST_TMP/x/etc/"
	tar -cf "$TEST_TMP/r.tar" -C "$TEST_TMP/x" bin etc
	run -0 "$IU" "$TEST_TMP/r.tar" "$D"
	assert [ -f "$D/etc/index.json" ]
}

@test "run PATH imports an archive once, and again only when the file changed" {
	require_root
	umoci_image "$TEST_TMP/src"
	skopeo copy --quiet "oci:$TEST_TMP/src:t" "docker-archive:$TEST_TMP/app.tar:t:latest"
	local R=$MINIDOCK_BIN/run
	run -0 "$R" --rm --network none "$TEST_TMP/app.tar" /bin/cat /data/new
	assert_output two
	run -0 "$R" --rm --network none --verbose "$TEST_TMP/app.tar" /bin/true
	assert_output --partial "unchanged since imported"
	refute_output --partial "img-unpack --layers"
	touch "$TEST_TMP/app.tar"       # a new mtime: imported again
	run -0 "$R" --rm --network none --verbose "$TEST_TMP/app.tar" /bin/true
	assert_output --partial "importing $TEST_TMP/app.tar as image app"
	# Another file under the same name (a new inode): imported again.
	skopeo copy --quiet "oci:$IMAGES/busybox-oci" "docker-archive:$TEST_TMP/new.tar:b:latest"
	mv "$TEST_TMP/new.tar" "$TEST_TMP/app.tar"
	run -0 "$R" --rm --network none "$TEST_TMP/app.tar" /bin/sh -c 'test -e /data || echo busybox'
	assert_output busybox
}

@test "rootfs tarball: .tar.gz, .tar and .tar.zst, the compression found by content" {
	run -0 "$IU" "$IMAGES/busybox-rootfs.tar.gz" "$D"
	assert_same_tree "$D" "$SRC/busybox"
	gzip -dc "$IMAGES/busybox-rootfs.tar.gz" > "$TEST_TMP/plain.tar.gz"  # a lying name
	run -0 "$IU" -v "$TEST_TMP/plain.tar.gz" "$TEST_TMP/d2"
	assert_output --partial "none compression"
	assert_same_tree "$TEST_TMP/d2" "$SRC/busybox"
	gzip -dc "$IMAGES/busybox-rootfs.tar.gz" | zstd -q -o "$TEST_TMP/fs.tar.zst"
	run -0 "$IU" -v "$TEST_TMP/fs.tar.zst" "$TEST_TMP/d3"
	assert_output --partial "zstd compression"
	assert_same_tree "$TEST_TMP/d3" "$SRC/busybox"
}

@test "three layers (gzip, plain, zstd), every format: the tree the layers make" {
	local f n=0
	for f in layers.tar layers-docker25.tar layers-oci layers-oci.tar layers-rootfs.tar.gz; do
		n=$((n + 1))
		run -0 "$IU" "$IMAGES/$f" "$TEST_TMP/d$n"
		assert_same_tree "$TEST_TMP/d$n" "$SRC/layers"
	done
}

@test "whiteouts: .wh.NAME deletes a file and a directory, .wh..wh..opq empties a directory" {
	run -0 "$IU" "$IMAGES/layers-oci" "$D"
	[ ! -e "$D/etc/motd" ]          # added by layer 2, deleted by layer 3
	[ ! -e "$D/bin/vi" ] && [ ! -L "$D/bin/vi" ]  # from layer 1
	[ ! -e "$D/srv" ]               # a directory of layer 1
	[ -L "$D/bin/ls" ]              # its neighbours stay
	assert_equal "$(ls -A "$D/opt/app/old")" new.txt   # a.txt b.txt hidden
	assert_equal "$(cat "$D/etc/layer3")" 3
	[ ! -e "$D/etc/.wh.motd" ] && [ ! -e "$D/opt/app/old/.wh..wh..opq" ]
}

@test "an opaque whiteout hides the layers below, not what its own layer put before it" {
	mkimage oci "$TEST_TMP/img" '[[["file", "d/old", "1"], ["file", "d/sub/old", "1"]],
		[["file", "d/new", "2"], ["file", "d/.wh..wh..opq", ""], ["file", "d/later", "2"]]]'
	run -0 "$IU" "$TEST_TMP/img" "$D"
	assert_equal "$(cd "$D/d" && ls -A | tr '\n' ' ')" "later new "
}

@test "layers keep owners, modes, symlinks, hard links, device nodes and xattrs" {
	require_root
	run -0 "$IU" "$IMAGES/layers.tar" "$D"
	assert_equal "$(stat -c '%u:%g %a' "$D/opt/app/data.txt")" "33:33 600"
	assert_equal "$(stat -c '%a' "$D/tmp")" 1777
	assert_equal "$(readlink "$D/opt/app/current")" hello.sh
	assert_equal "$(stat -c %i "$D/opt/app/hello-link")" "$(stat -c %i "$D/opt/app/hello.sh")"
	assert_equal "$(stat -c '%F %t:%T' "$D/dev/minidock-null")" "character special file 1:3"
	assert_equal "$(stat -c %Y "$D/etc/passwd")" 946684800
	run -0 python3 -c 'import os,sys; print(os.getxattr(sys.argv[1], "user.minidock").decode())' \
		"$D/opt/app/data.txt"
	assert_output layer2
}

# ---- standard input ----

@test "IMAGE - : a docker save archive on a pipe is spooled, and --verbose says so" {
	run -0 --separate-stderr sh -c "cat '$IMAGES/layers.tar' | '$IU' --verbose - '$D'"
	[[ $stderr == *"spooled to a temporary file"* ]] || fail "no spool message: $stderr"
	assert_same_tree "$D" "$SRC/layers"
}

@test "IMAGE - : an OCI archive and a rootfs tarball on a pipe (the tarball is not spooled)" {
	run -0 sh -c "cat '$IMAGES/busybox-oci.tar' | '$IU' - '$D'"
	assert_same_tree "$D" "$SRC/busybox"
	run -0 --separate-stderr sh -c "cat '$IMAGES/busybox-rootfs.tar.gz' | '$IU' -v - '$TEST_TMP/d2'"
	[[ $stderr == *"no temporary file"* ]] || fail "spooled a tarball: $stderr"
	assert_same_tree "$TEST_TMP/d2" "$SRC/busybox"
}

# ---- several images, tags ----

@test "--tag picks one image of several; without it the tags are listed" {
	run -125 "$IU" "$IMAGES/two.tar" "$D"
	assert_output --partial "several images"
	assert_output --partial "busybox:latest, layers:latest"
	assert_no_dest
	run -0 "$IU" --tag layers "$IMAGES/two.tar" "$D"
	assert_same_tree "$D" "$SRC/layers"
	run -0 "$IU" --tag busybox:latest "$IMAGES/two-oci" "$TEST_TMP/d2"
	assert_same_tree "$TEST_TMP/d2" "$SRC/busybox"
	run -0 "$IU" --tag busybox "$IMAGES/busybox-docker25.tar" "$TEST_TMP/d3"
}

@test "an unknown tag is refused, naming the tags there are" {
	run -125 "$IU" --tag nginx "$IMAGES/two-oci" "$D"
	assert_output --partial 'img-unpack:'
	assert_output --partial 'no image tagged "nginx"'
	assert_output --partial "busybox:latest"
	assert_no_dest
}

# ---- config, inspect, progress ----

@test "--config writes Env, Entrypoint, Cmd, WorkingDir, User, ExposedPorts, Labels" {
	run -0 "$IU" --config "$TEST_TMP/config.json" "$IMAGES/busybox-oci" "$D"
	run -0 python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
print(sorted(c))
print(c["Env"][0].split("=")[0], c["Cmd"], c["WorkingDir"], list(c["ExposedPorts"]), c["Entrypoint"], c["User"])
print(c["Labels"]["org.opencontainers.image.title"])' "$TEST_TMP/config.json"
	assert_line -n 0 "['Cmd', 'Entrypoint', 'Env', 'ExposedPorts', 'Labels', 'User', 'WorkingDir']"
	assert_line -n 1 "PATH ['/bin/sh'] /www ['80/tcp'] None None"
	assert_line -n 2 "minidock busybox"
}

@test "--inspect: tags, layers (digest, size, media type) and config; --json the same" {
	local blob
	blob=$(layer_blob "$IMAGES/layers-oci" 2)
	run -0 "$IU" --inspect "$IMAGES/layers-oci"
	assert_output --partial "layers:latest"
	assert_output --partial "sha256:$blob"
	assert_output --partial "application/vnd.oci.image.layer.v1.tar+zstd"
	assert_output --partial '"/opt/app/hello.sh"'
	run -0 "$IU" --inspect --json "$IMAGES/layers-oci"
	run -0 python3 -c '
import json, sys
j = json.loads(sys.argv[1])
print(len(j["layers"]), j["layers"][2]["digest"], j["layers"][2]["size"] > 0, j["tags"], j["runtime"]["WorkingDir"])' "$output"
	assert_output "3 sha256:$blob True ['layers:latest'] /opt/app"
	[ ! -e "$D" ]
}

@test "--inspect shows the history: what made each layer, empty_layer for config-only steps" {
	[ "$(id -u)" = 0 ] || skip "img-build builds as root"
	local ctx=$TEST_TMP/ctx
	mkdir -p "$ctx"
	echo hi > "$ctx/hi.txt"
	printf 'FROM busybox\nCOPY hi.txt /hi.txt\nENV A=1\nCMD ["cat", "/hi.txt"]\n' > "$ctx/Dockerfile"
	run -0 "$MINIDOCK_BIN/img-build" -o "oci:$TEST_TMP/oci" "$ctx"
	run -0 "$IU" --inspect "$TEST_TMP/oci"
	assert_line "history:     4"
	assert_line "  1. FROM busybox (layer 1)"
	assert_line "  2. COPY hi.txt /hi.txt"
	assert_line "  3. ENV A=1  (empty_layer)"
	assert_line '  4. CMD ["cat", "/hi.txt"]  (empty_layer)'
	run -0 "$IU" --inspect --json "$TEST_TMP/oci"
	run -0 python3 -c '
import json, sys
print([(h["created_by"], h["empty_layer"]) for h in json.loads(sys.argv[1])["history"]][1:3])' "$output"
	assert_output "[('COPY hi.txt /hi.txt', False), ('ENV A=1', True)]"
}

@test "--progress shows each layer on stderr, stdout stays empty" {
	run -0 --separate-stderr "$IU" --progress "$IMAGES/layers-oci" "$D"
	assert_equal "$output" ""
	[[ $stderr == *"layer 3/3"*"100%"* ]] || fail "no progress: $stderr"
}

# ---- --layers: the store run uses ----

@test "--layers: one directory per layer, named by diff_id, printed lowest first" {
	local store=$TEST_TMP/store
	run -0 --separate-stderr "$IU" --layers "$store" "$IMAGES/layers-oci"
	assert_equal "${#lines[@]}" 3
	local ids
	ids=$(python3 -c '
import json, sys
d = sys.argv[1]; idx = json.load(open(d + "/index.json"))
m = json.load(open(d + "/blobs/sha256/" + idx["manifests"][0]["digest"][7:]))
c = json.load(open(d + "/blobs/sha256/" + m["config"]["digest"][7:]))
print("\n".join(x[7:] for x in c["rootfs"]["diff_ids"]))' "$IMAGES/layers-oci")
	assert_equal "$output" "$(echo "$ids" | sed "s|^|$store/sha256/|")"
	assert_equal "$(ls -A "$store/sha256" | wc -l)" 3     # no temporary left
	# layer 3 in overlayfs form: a 0/0 character device, an opaque xattr
	local top=${lines[2]}
	assert_equal "$(stat -c '%F %t:%T' "$top/etc/motd")" "character special file 0:0"
	run -0 python3 -c 'import os,sys; print(os.getxattr(sys.argv[1], "trusted.overlay.opaque"))' \
		"$top/opt/app/old"
	assert_output "b'y'"
}

@test "--layers: a layer already stored is skipped (--verbose says so), the same path printed" {
	local store=$TEST_TMP/store first
	run -0 "$IU" --layers "$store" "$IMAGES/busybox.tar"
	first=$output
	run -0 --separate-stderr "$IU" --verbose --layers "$store" "$IMAGES/layers-oci.tar"
	assert_equal "${lines[0]}" "$first"
	[[ $stderr == *"already in the store, skipped"* ]] || fail "not skipped: $stderr"
}

@test "--layers: overlayfs stacks them into the tree the layers make" {
	require_root
	local store=$TEST_TMP/store lower
	run -0 "$IU" --layers "$store" "$IMAGES/layers.tar"
	# The layers by their names, from inside the store: mount(8) of
	# util-linux 2.39 and later (Debian 13) passes lowerdir in one
	# fsconfig(2) string, which the kernel refuses past 256 bytes (EINVAL,
	# "wrong fs type"); three full paths below $TEST_TMP are longer.
	lower=$(echo "$output" | tac | xargs -n1 basename | paste -sd:)
	mkdir "$TEST_TMP/merged"
	run -0 unshare -m sh -c "cd '$store/sha256' &&
		mount -t overlay -o ro,lowerdir=$lower overlay '$TEST_TMP/merged' &&
		cd '$TEST_TMP/merged' && find . -mindepth 1 -printf '%P|%y|%l\n' | sort"
	assert_equal "$output" "$(cd "$SRC/layers" && find . -mindepth 1 -printf '%P|%y|%l\n' | sort)"
}

@test "--layers: two runs at once store each layer once, and agree" {
	local store=$TEST_TMP/store
	"$IU" --layers "$store" "$IMAGES/layers-oci.tar" > "$TEST_TMP/a" 2>&1 &
	local pid=$!
	run -0 "$IU" --layers "$store" "$IMAGES/layers.tar"
	wait "$pid" || fail "the other run failed: $(cat "$TEST_TMP/a")"
	assert_equal "$output" "$(cat "$TEST_TMP/a")"
	assert_equal "$(ls -A "$store/sha256" | wc -l)" 3    # no .tmp-* left
}

@test "--layers refuses unsafe entries too, and leaves no temporary directory" {
	mkimage oci "$TEST_TMP/img" '[[["file", "../escape", "x"]]]'
	run -125 "$IU" --layers "$TEST_TMP/store" "$TEST_TMP/img"
	assert_output --partial '"../escape" refused'
	assert_equal "$(ls -A "$TEST_TMP/store/sha256")" ""
	[ ! -e "$TEST_TMP/escape" ]
}

# ---- digests ----

@test "a layer blob that does not match its digest: error naming the blob, DEST removed" {
	cp -a "$IMAGES/busybox-oci" "$TEST_TMP/img"
	local blob
	blob=$(layer_blob "$TEST_TMP/img" 0)
	gzip -dc "$TEST_TMP/img/blobs/sha256/$blob" | gzip -1 > "$TEST_TMP/other.gz"
	cp "$TEST_TMP/other.gz" "$TEST_TMP/img/blobs/sha256/$blob"   # same tar, other bytes
	run -125 "$IU" "$TEST_TMP/img" "$D"
	assert_output --partial "blobs/sha256/$blob"
	assert_output --partial "mismatch"
	assert_no_dest
	run -0 "$IU" --no-verify "$TEST_TMP/img" "$D"
	assert_same_tree "$D" "$SRC/busybox"
}

@test "an uncompressed layer that does not match its diff_id: error, DEST removed" {
	mkimage oci "$TEST_TMP/img" '[[["file", "a", "x"]]]' '{"bad_diff_id": true}'
	run -125 "$IU" "$TEST_TMP/img" "$D"
	assert_output --partial "diff_id mismatch"
	assert_output --partial "sha256:0000000000"
	assert_no_dest
}

@test "a config blob that does not match its digest is refused" {
	cp -a "$IMAGES/busybox-oci" "$TEST_TMP/img"
	local cfg
	cfg=$(python3 -c '
import json, sys
d = sys.argv[1]; idx = json.load(open(d + "/index.json"))
m = json.load(open(d + "/blobs/sha256/" + idx["manifests"][0]["digest"][7:]))
print(m["config"]["digest"][7:])' "$TEST_TMP/img")
	sed -i 's|/bin/sh|/bin/xx|' "$TEST_TMP/img/blobs/sha256/$cfg"
	run -125 "$IU" "$TEST_TMP/img" "$D"
	assert_output --partial "config blobs/sha256/$cfg: digest mismatch"
	assert_no_dest
}

# ---- hostile images: nothing written outside DEST ----

@test "hostile: an entry with .. is refused, naming it and the layer" {
	mkimage tgz "$TEST_TMP/evil.tgz" '[[["file", "a", "x"], ["file", "../../outside/pwned", "x"]]]'
	run -125 "$IU" "$TEST_TMP/evil.tgz" "$D"
	assert_output --partial 'layer 1/1: entry "../../outside/pwned" refused'
	assert_outside_untouched
	assert_no_dest
}

@test "hostile: an absolute path is refused" {
	mkimage tar "$TEST_TMP/evil.tar" "[[[\"file\", \"$OUT/pwned\", \"x\"]]]"
	run -125 "$IU" "$TEST_TMP/evil.tar" "$D"
	assert_output --partial "an absolute path"
	assert_outside_untouched
	assert_no_dest
}

@test "hostile: a symlink then a file through it, in the same layer, never leaves DEST" {
	mkimage tar "$TEST_TMP/evil.tar" "[[[\"sym\", \"evil\", \"$OUT\"], [\"file\", \"evil/pwned\", \"x\"]]]"
	run -125 "$IU" "$TEST_TMP/evil.tar" "$D"
	assert_output --partial "evil/pwned"
	assert_outside_untouched
	assert_no_dest
	# relative, climbing: resolved as in the container, where / has no parent
	mkimage tar "$TEST_TMP/evil2.tar" '[[["dir", "etc"], ["sym", "up", "../../../../../../.."],
		["file", "up/etc/pwned", "x"]]]'
	run -0 "$IU" "$TEST_TMP/evil2.tar" "$D"
	assert_equal "$(cat "$D/etc/pwned")" x       # accepted, kept inside
	[ ! -e /etc/pwned ]
	assert_outside_untouched
}

@test "hostile: a symlink in one layer, a file through it in a later layer" {
	mkimage oci "$TEST_TMP/img" "[[[\"sym\", \"evil\", \"$OUT\"]], [[\"file\", \"evil/pwned\", \"x\"]]]"
	run -125 "$IU" "$TEST_TMP/img" "$D"
	assert_output --partial 'layer 2/2'
	assert_output --partial "evil/pwned"
	assert_outside_untouched
	assert_no_dest
}

@test "hostile: a symlink replacing the root itself (CVE-2021-29136) is refused" {
	mkimage tar "$TEST_TMP/evil.tar" "[[[\"sym\", \".\", \"$OUT\"], [\"file\", \"pwned\", \"x\"]]]"
	run -125 "$IU" "$TEST_TMP/evil.tar" "$D"
	assert_output --partial "it would replace the root directory"
	assert_outside_untouched
	assert_no_dest
	local name
	for name in ./ /. .//. ; do
		mkimage tar "$TEST_TMP/evil2.tar" "[[[\"sym\", \"$name\", \"$OUT\"], [\"file\", \"./pwned\", \"x\"]]]"
		tar -tvf "$TEST_TMP/evil2.tar" | grep -q "^l.* $name -> $OUT" || fail "no symlink $name in the tar"
		run -125 "$IU" "$TEST_TMP/evil2.tar" "$D"
		assert_outside_untouched
		assert_no_dest
		rm "$TEST_TMP/evil2.tar"
	done
}

@test "hostile: a hard link to a file outside is refused" {
	mkimage tar "$TEST_TMP/evil.tar" '[[["link", "h", "../outside/victim"]]]'
	run -125 "$IU" "$TEST_TMP/evil.tar" "$D"
	assert_output --partial 'hard link to "../outside/victim" refused'
	assert_no_dest
	mkimage tar "$TEST_TMP/evil2.tar" "[[[\"link\", \"h\", \"$OUT/victim\"]]]"
	run -125 "$IU" "$TEST_TMP/evil2.tar" "$D"
	assert_output --partial "an absolute path"
	# through a symlink: resolved inside DEST, where there is no such file
	mkimage tar "$TEST_TMP/evil3.tar" "[[[\"sym\", \"s\", \"$OUT\"], [\"link\", \"h\", \"s/victim\"]]]"
	run -125 "$IU" "$TEST_TMP/evil3.tar" "$D"
	assert_output --partial 'hard link target "s/victim"'
	assert_equal "$(stat -c %h "$OUT/victim")" 1
	assert_outside_untouched
	assert_no_dest
}

@test "hostile: whiteouts .wh.. and .wh... (the directory above) are refused" {
	mkdir "$D"
	echo keep > "$TEST_TMP/keep"
	local w
	for w in ".wh.." ".wh..." "sub/.wh.." ".wh."; do
		rm -rf "$D"
		mkimage oci "$TEST_TMP/img-$RANDOM" "[[[\"file\", \"sub/f\", \"x\"]], [[\"file\", \"$w\", \"\"]]]"
	done
	for img in "$TEST_TMP"/img-*; do
		run -125 "$IU" "$img" "$D"
		assert_output --partial "refused: it names no file"
		assert_no_dest
	done
	assert_equal "$(cat "$TEST_TMP/keep")" keep
	assert_outside_untouched
}

@test "hostile: a whiteout that is not a regular file is refused" {
	mkimage oci "$TEST_TMP/img" '[[["file", "f", "x"]], [["dir", ".wh.f"]]]'
	run -125 "$IU" "$TEST_TMP/img" "$D"
	assert_output --partial 'whiteout ".wh.f/" refused: not a regular file'
	assert_no_dest
	mkimage oci "$TEST_TMP/img2" "[[[\"file\", \"f\", \"x\"]], [[\"sym\", \".wh.f\", \"$OUT/victim\"]]]"
	run -125 "$IU" "$TEST_TMP/img2" "$D"
	assert_output --partial "not a regular file"
	assert_outside_untouched
}

@test "hostile: a symlink loop is an error, not a hang" {
	mkimage tar "$TEST_TMP/evil.tar" '[[["sym", "a", "b"], ["sym", "b", "a"], ["file", "a/x", "x"]]]'
	run -125 timeout 10 "$IU" "$TEST_TMP/evil.tar" "$D"
	assert_output --partial "a/x"
	assert_output --partial "Too many levels of symbolic links"
	assert_no_dest
}

@test "hostile: a directory replaced by a symlink in a later layer, then written through" {
	mkimage oci "$TEST_TMP/img" "[[[\"dir\", \"d\"], [\"file\", \"d/f\", \"1\"]],
		[[\"sym\", \"d\", \"$OUT\"]], [[\"file\", \"d/pwned\", \"x\"]]]"
	run -125 "$IU" "$TEST_TMP/img" "$D"
	assert_output --partial "layer 3/3"
	assert_outside_untouched
	assert_no_dest
	# and a whiteout through it deletes nothing outside
	mkimage oci "$TEST_TMP/img2" "[[[\"dir\", \"d\"]], [[\"sym\", \"d\", \"$OUT\"]], [[\"file\", \"d/.wh.victim\", \"\"]]]"
	run -0 "$IU" "$TEST_TMP/img2" "$D"
	assert_outside_untouched
}

@test "hostile: a gzip bomb stops at --max-size with a clear error" {
	python3 -c '
import gzip, io, sys, tarfile
with gzip.open(sys.argv[1], "wb", compresslevel=1) as g:
    with tarfile.open(fileobj=g, mode="w") as t:
        ti = tarfile.TarInfo("zeros"); ti.size = 64 << 20
        t.addfile(ti, io.BytesIO(bytes(64 << 20)))' "$TEST_TMP/bomb.tar.gz"
	[ "$(stat -c %s "$TEST_TMP/bomb.tar.gz")" -lt 1000000 ]
	run -125 "$IU" --max-size 8M "$TEST_TMP/bomb.tar.gz" "$D"
	assert_output --partial "larger than 8388608 bytes"
	assert_output --partial "decompression bomb"
	assert_no_dest
}

@test "hostile: corrupt and truncated gzip: a clear error, DEST removed" {
	head -c 300000 "$IMAGES/busybox-rootfs.tar.gz" > "$TEST_TMP/cut.tar.gz"
	run -125 "$IU" "$TEST_TMP/cut.tar.gz" "$D"
	# Found while reading the member list (is there a manifest.json?) or
	# while unpacking: either way the file is named, and what is wrong.
	assert_output --regexp "img-unpack: (layer 1/1: |.*cut.tar.gz: ).*(runcated|nexpected)"
	assert_no_dest
	cp "$IMAGES/busybox-rootfs.tar.gz" "$TEST_TMP/bad.tar.gz"
	printf 'garbage-garbage-garbage' | dd of="$TEST_TMP/bad.tar.gz" bs=1 seek=200000 conv=notrunc 2>/dev/null
	run -125 "$IU" "$TEST_TMP/bad.tar.gz" "$D"
	assert_output --partial "img-unpack: layer 1/1"
	assert_no_dest
}

@test "hostile: invalid JSON and a manifest pointing at a missing blob" {
	cp -a "$IMAGES/busybox-oci" "$TEST_TMP/img"
	echo '{"manifests": [' > "$TEST_TMP/img/index.json"
	run -125 "$IU" "$TEST_TMP/img" "$D"
	assert_output --partial "index.json: index: invalid JSON"
	assert_no_dest
	cp -a "$IMAGES/busybox-oci" "$TEST_TMP/img2"
	local blob
	blob=$(layer_blob "$TEST_TMP/img2" 0)
	rm "$TEST_TMP/img2/blobs/sha256/$blob"
	run -125 "$IU" "$TEST_TMP/img2" "$D"
	assert_output --partial "blobs/sha256/$blob: not found in the image"
	assert_no_dest
}

@test "a layer larger than the free space: a clear error, nothing left" {
	require_root
	mkdir "$TEST_TMP/small"
	mount -t tmpfs -o size=512k tmpfs "$TEST_TMP/small"
	run -125 "$IU" "$IMAGES/busybox-oci" "$TEST_TMP/small/dest"
	assert_output --partial "No space left on device"
	assert_equal "$(ls -A "$TEST_TMP/small")" ""
	umount "$TEST_TMP/small"
}

@test "a 128 MB layer flows through: peak memory stays under 64 MB" {
	[ -z "${MINIDOCK_SAN:-}" ] || skip "AddressSanitizer's shadow memory inflates RSS"
	python3 -c '
import gzip, io, sys, tarfile
with gzip.open(sys.argv[1], "wb", compresslevel=1) as g:
    with tarfile.open(fileobj=g, mode="w") as t:
        ti = tarfile.TarInfo("big"); ti.size = 128 << 20
        t.addfile(ti, io.BytesIO(bytes(128 << 20)))' "$TEST_TMP/big.tar.gz"
	run -0 python3 -c '
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)' "$IU" "$TEST_TMP/big.tar.gz" "$D"
	[ "$(stat -c %s "$D/big")" -eq $((128 << 20)) ]
	[ "$output" -lt 64 ] || fail "peak RSS $output MB"
}

@test "SIGTERM while unpacking: exit 125, DEST removed" {
	mkfifo "$TEST_TMP/fifo"
	"$IU" - "$D" < "$TEST_TMP/fifo" > "$TEST_TMP/err" 2>&1 &
	local pid=$! i status=0
	exec 8> "$TEST_TMP/fifo"     # (fd 3 is bats's own)
	gzip -dc "$IMAGES/busybox-rootfs.tar.gz" | head -c 1500000 >&8
	for i in $(seq 100); do [ -e "$D/bin" ] && break; sleep 0.1; done
	if ! [ -e "$D/bin" ]; then
		kill "$pid"; exec 8>&-
		fail "img-unpack did not start: $(cat "$TEST_TMP/err")"
	fi
	kill -TERM "$pid"
	exec 8>&-
	wait "$pid" || status=$?
	assert_equal "$status" 125
	assert_equal "$(cat "$TEST_TMP/err")" "img-unpack: interrupted"
	assert_no_dest
}

# ---- out of memory: library calls that can fail are checked ----

# A library that makes the Nth call of archive_read_new(3) return NULL, as
# when memory runs out (its only failure), LD_PRELOADed into img-unpack.
# Run: FAIL_AT=N with_oom_shim COMMAND...
build_oom_shim() {
	command -v cc >/dev/null || skip "no C compiler (make deps)"
	readelf -d "$IU" | grep -q 'NEEDED.*libarchive' ||
		skip "img-unpack is linked statically: LD_PRELOAD cannot reach libarchive"
	cat > "$TEST_TMP/oom.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
struct archive;
struct archive *archive_read_new(void)
{
	static int calls;
	const char *at = getenv("FAIL_AT");
	struct archive *(*real)(void) = (struct archive *(*)(void))dlsym(RTLD_NEXT, "archive_read_new");

	if (at && ++calls == atoi(at))
		return NULL;
	return real();
}
C
	cc -shared -fPIC -o "$TEST_TMP/oom.so" "$TEST_TMP/oom.c" -ldl || fail "cannot build the shim"
}

with_oom_shim() {
	# (AddressSanitizer wants to come first; the shim does not mind.)
	LD_PRELOAD=$TEST_TMP/oom.so ASAN_OPTIONS=$ASAN_OPTIONS:verify_asan_link_order=0 "$@"
}

@test "archive_read_new out of memory, image on standard input: exit 125 and a message, no crash" {
	build_oom_shim
	run -125 sh -c "cat '$IMAGES/busybox-rootfs.tar.gz' |
		FAIL_AT=1 LD_PRELOAD='$TEST_TMP/oom.so' ASAN_OPTIONS='$ASAN_OPTIONS:verify_asan_link_order=0' '$IU' - '$D'"
	assert_output "img-unpack: standard input: archive_read_new: Cannot allocate memory"
	assert_no_dest
}

@test "archive_read_new out of memory in a layer: the message names the layer, nothing left" {
	build_oom_shim
	local n
	for n in 2 3; do    # 1: listing the archive; 2: decompressing the layer; 3: its tar
		FAIL_AT=$n run -125 with_oom_shim "$IU" "$IMAGES/busybox-rootfs.tar.gz" "$D"
		assert_output "img-unpack: layer 1/1: archive_read_new: Cannot allocate memory"
		assert_no_dest
	done
	FAIL_AT=2 run -125 with_oom_shim "$IU" --layers "$TEST_TMP/store" "$IMAGES/busybox-rootfs.tar.gz"
	assert_output --partial "layer 1/1: archive_read_new"
	assert_equal "$(ls -A "$TEST_TMP/store/sha256")" ""
	FAIL_AT=1 run -125 with_oom_shim "$IU" "$IMAGES/busybox-rootfs.tar.gz" "$D"
	assert_output "img-unpack: $IMAGES/busybox-rootfs.tar.gz: archive_read_new: Cannot allocate memory"
}

# ---- bad arguments ----

@test "bad arguments: missing image, not an image, DEST not empty, wrong count" {
	run -125 "$IU" "$TEST_TMP/nothing.tar" "$D"
	assert_output --partial "img-unpack: $TEST_TMP/nothing.tar: No such file or directory"
	echo 'hello' > "$TEST_TMP/text"
	run -125 "$IU" "$TEST_TMP/text" "$D"
	assert_output --partial "not an image"
	mkdir "$TEST_TMP/empty"
	run -125 "$IU" "$TEST_TMP/empty" "$D"
	assert_output --partial "not an image"
	assert_no_dest
	mkdir "$D" && touch "$D/precious"
	run -125 "$IU" "$IMAGES/busybox.tar" "$D"
	assert_output --partial "not empty"
	[ -e "$D/precious" ]
	run -125 "$IU" "$IMAGES/busybox.tar"
	assert_output --partial "expected IMAGE DEST"
	run -125 "$IU" --max-size lots "$IMAGES/busybox.tar" "$TEST_TMP/x"
	assert_output --partial "--max-size lots"
}

@test "an empty DEST that exists is used, and kept (empty) on failure" {
	mkdir "$D"
	run -0 "$IU" "$IMAGES/busybox-oci" "$D"
	assert_same_tree "$D" "$SRC/busybox"
	rm -rf "$D" && mkdir -m 700 "$D"
	chown 33:33 "$D" 2>/dev/null || true
	local before
	before=$(stat -c '%a %u:%g' "$D")
	mkimage tgz "$TEST_TMP/evil.tgz" '[[["file", "a", "x"], ["file", "../x", "x"]]]'
	run -125 "$IU" "$TEST_TMP/evil.tgz" "$D"
	[ -d "$D" ] || fail "DEST was removed"
	assert_equal "$(ls -A "$D")" ""
	assert_equal "$(stat -c '%a %u:%g' "$D")" "$before"
}

# ---- the JSON parsers under libFuzzer ----

@test "fuzz: manifest/index/config parsing survives 8 s of libFuzzer (ASan)" {
	[ -z "${MINIDOCK_SAN:-}" ] || skip "runs once, in the first pass (it is built with ASan itself)"
	command -v clang >/dev/null || skip "clang not installed (make deps)"
	run -0 make -s -C "$REPO/tests/fuzz" OUT="$TEST_TMP/fuzz" run FUZZ_SECONDS=8
	assert_output --partial "Done"
}
