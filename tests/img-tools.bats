#!/usr/bin/env bats
# img-tools.bats - the archives real tools write, read by img-unpack and by
# `run`: podman save (docker-archive, oci-archive, docker-dir, oci-dir,
# with and without --compress), buildah push (dir:, oci:, oci-archive:,
# docker-archive:) and docker save (a dockerd of the test's own, where
# Debian's docker.io is installed).  Each tool is given the same image,
# made by umoci (image-trees.bash), and what img-unpack gives must be the
# tree `umoci unpack` gives of it.  (buildah push to a registry, then
# img-pull, is in img-pull.bats.)  The tools keep their storage in the
# test's directory, with the vfs driver: no mount is left behind.

load helpers
load image-trees
bats_require_minimum_version 1.5.0

setup() {
	common_setup
	DOCKERD_PID=
	IU=$MINIDOCK_BIN/img-unpack
	[ -f "$IMAGES/images.done" ] || skip "no teaching images (make images)"
	SRC=$IMAGES/src
	umoci_image "$TEST_TMP/src"
}

teardown() {
	stop_own_dockerd
	common_teardown
}

# A tool's storage of the test's own: podman and buildah share these options.
storage_opts() {
	echo --root "$TEST_TMP/storage" --runroot "$TEST_TMP/runroot" --storage-driver vfs
}

# assert_unpacks_as_ref PATH...: each unpacks to umoci's tree.
assert_unpacks_as_ref() {
	local x n=0
	for x in "$@"; do
		n=$((n + 1))
		run -0 "$IU" "$x" "$TEST_TMP/unpacked-$n"
		assert_same_tree "$TEST_TMP/unpacked-$n" "$TEST_TMP/ref/rootfs"
	done
}

@test "podman save: docker-archive, oci-archive, docker-dir (with and without --compress), oci-dir: the tree umoci unpacks; run FILE runs it" {
	command -v podman >/dev/null || skip "podman is not installed (make deps)"
	local p=(podman $(storage_opts) --cgroup-manager cgroupfs --events-backend file)
	local id img=localhost/src:latest f
	id=$(cd "$TEST_TMP" && "${p[@]}" pull -q oci:src:t) && "${p[@]}" tag "$id" "$img" ||
		fail "podman could not load the image"
	"${p[@]}" save -q --format docker-archive -o "$TEST_TMP/da.tar" "$img"
	"${p[@]}" save -q --format oci-archive -o "$TEST_TMP/oa.tar" "$img"
	"${p[@]}" save -q --format docker-dir -o "$TEST_TMP/dd" "$img"
	"${p[@]}" save -q --compress --format docker-dir -o "$TEST_TMP/ddz" "$img"
	"${p[@]}" save -q --format oci-dir -o "$TEST_TMP/od" "$img"
	# --compress did what it says (the layer of dd is a plain tar).
	for f in "$TEST_TMP"/ddz/*; do file -b "$f"; done | grep -q '^gzip' ||
		fail "podman --compress wrote no gzip layer"
	run -0 "$IU" --inspect "$TEST_TMP/da.tar"
	assert_output --partial "docker-archive as skopeo and podman write it"
	refute_output --partial "root filesystem"
	run -0 "$IU" --inspect "$TEST_TMP/oa.tar"
	assert_output --partial "tags:        localhost/src:latest"
	assert_unpacks_as_ref "$TEST_TMP/da.tar" "$TEST_TMP/oa.tar" "$TEST_TMP/dd" \
		"$TEST_TMP/ddz" "$TEST_TMP/od"
	require_root
	for f in da.tar oa.tar dd; do
		run -0 "$MINIDOCK_BIN/run" --rm --network none "$TEST_TMP/$f" /bin/cat /data/new /data/keep
		assert_output "two
keep"
	done
}

@test "buildah push: dir:, oci:, oci-archive:, docker-archive:: the tree umoci unpacks; run FILE runs it" {
	command -v buildah >/dev/null || skip "buildah is not installed (make deps)"
	local b=(buildah $(storage_opts))
	local id img=localhost/src:latest
	id=$(cd "$TEST_TMP" && "${b[@]}" pull -q oci:src:t) && "${b[@]}" tag "$id" "$img" ||
		fail "buildah could not load the image"
	"${b[@]}" push -q "$img" "dir:$TEST_TMP/bd"
	"${b[@]}" push -q "$img" "oci:$TEST_TMP/bo:t"
	"${b[@]}" push -q "$img" "oci-archive:$TEST_TMP/boa.tar:t"
	"${b[@]}" push -q "$img" "docker-archive:$TEST_TMP/bda.tar:src:latest"
	run -0 "$IU" --inspect "$TEST_TMP/bd"
	assert_output --partial "skopeo dir"
	assert_unpacks_as_ref "$TEST_TMP/bd" "$TEST_TMP/bo" "$TEST_TMP/boa.tar" "$TEST_TMP/bda.tar"
	require_root
	run -0 "$MINIDOCK_BIN/run" --rm --network none "$TEST_TMP/bda.tar" /bin/cat /data/keep
	assert_output keep
}

@test "docker save (a dockerd of the test's own): the tree umoci unpacks; run FILE runs it" {
	require_root
	command -v dockerd >/dev/null && command -v docker >/dev/null ||
		skip "docker.io is not installed here (Debian's docker.io; CI has not)"
	# A dockerd of our own (helpers.bash): no bridge, no iptables rules.
	start_own_dockerd "$TEST_TMP/docker"
	skopeo copy --quiet "oci:$TEST_TMP/src:t" "docker-archive:$TEST_TMP/in.tar:src:latest"
	docker load -q -i "$TEST_TMP/in.tar" >/dev/null || fail "docker load failed"
	docker save -o "$TEST_TMP/ds.tar" src:latest || fail "docker save failed"
	run -0 "$IU" --inspect "$TEST_TMP/ds.tar"
	assert_output --partial "tags:        src:latest"
	refute_output --partial "root filesystem"
	assert_unpacks_as_ref "$TEST_TMP/ds.tar"
	run -0 "$MINIDOCK_BIN/run" --rm --network none "$TEST_TMP/ds.tar" /bin/cat /data/new
	assert_output two
}
