# image-trees.bash - what the image suites compare: the tree an image
# unpacks to (tree_of, assert_same_tree), and an image made by umoci
# itself with umoci's own unpack of it (umoci_image), the reference every
# format and every tool must give.  Loaded by img-unpack.bats and
# img-tools.bats after helpers.

# One line per file below DIR (not DIR itself): what an image defines,
# name, type, mode, owner, mtime, and for what is not a directory its size,
# link target and link count (hard links); then the files' md5sums.  Never
# what the filesystem keeps for itself: a directory's size and link count
# differ between tmpfs (Debian 13's /tmp), ext4 and btrfs for the same tree.
tree_of() {
	(cd "$1" && { find . -mindepth 1 -type d -printf '%P|%y|%m|%U:%G|%T@\n' &&
		find . -mindepth 1 ! -type d -printf '%P|%y|%m|%U:%G|%T@|%s|%l|%n\n'; } | sort &&
		find . -type f -print0 | sort -z | xargs -0 md5sum)
}

assert_same_tree() {
	diff <(tree_of "$1") <(tree_of "$2") || fail "$1 differs from $2"
}

# umoci_image DIR: an OCI layout DIR, image "t", built by umoci itself in
# two layers over the busybox tree (a file deleted in the second: a
# whiteout; a new file with mode 0640; a symlink), then umoci's own unpack
# of it in $TEST_TMP/ref/rootfs: the tree every format must give.
umoci_image() {
	command -v umoci >/dev/null && command -v skopeo >/dev/null ||
		skip "no umoci or skopeo (make deps)"
	local b=$TEST_TMP/bundle
	umoci init --layout "$1" && umoci new --image "$1:t" &&
		umoci unpack --image "$1:t" "$b" || fail "umoci could not make an image"
	cp -a "$SRC/busybox/." "$b/rootfs/"
	mkdir "$b/rootfs/data"
	echo one > "$b/rootfs/data/gone"
	echo keep > "$b/rootfs/data/keep"
	ln -s keep "$b/rootfs/data/link"
	umoci repack --image "$1:t" "$b"
	rm -rf "$b"     # umoci diffs against the bundle's own unpack: a fresh one
	umoci unpack --image "$1:t" "$b" >/dev/null
	rm "$b/rootfs/data/gone"
	echo two > "$b/rootfs/data/new"
	chmod 0640 "$b/rootfs/data/new"
	umoci repack --image "$1:t" "$b"
	umoci config --image "$1:t" --config.cmd /bin/sh
	rm -rf "$b"
	umoci unpack --image "$1:t" "$TEST_TMP/ref" >/dev/null
}

