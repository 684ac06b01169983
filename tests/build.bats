#!/usr/bin/env bats
# build.bats - the project builds cleanly, with gcc and with clang, and every
# tool answers --help and --version the same way.

load helpers

setup() { common_setup; shopt -s nullglob; }
teardown() { common_teardown; }

@test "build: every tool builds with clang and -Wall -Wextra -Werror" {
	command -v clang >/dev/null || skip "clang not installed (make deps)"
	run make -s -C "$REPO" CC=clang BUILD="$TEST_TMP/build" BIN="$TEST_TMP/bin"
	assert_success
	for tool in "$REPO"/cmd/*.c; do
		tool=$(basename "$tool" .c)
		[ -x "$TEST_TMP/bin/$tool" ] || fail "clang did not build $tool"
	done
}

@test "build: every tool has --help, --version and a man page" {
	for src in "$REPO"/cmd/*.c; do
		tool=$(basename "$src" .c)
		run "$MINIDOCK_BIN/$tool" --help
		assert_success
		assert_output --partial "Usage: $tool"
		run "$MINIDOCK_BIN/$tool" --version
		assert_success
		assert_output --partial "$tool (minidock)"
		[ -f "$REPO/cmd/$tool.1" ] || fail "no man page cmd/$tool.1"
	done
}

@test "build: an unknown option is refused with exit 125 and names the tool" {
	for src in "$REPO"/cmd/*.c; do
		tool=$(basename "$src" .c)
		run "$MINIDOCK_BIN/$tool" --no-such-option
		assert_equal "$status" 125
		assert_output --partial "$tool:"
	done
}

@test "images: the busybox rootfs has busybox, its applets and /etc files" {
	[ -x "$ROOTFS/bin/busybox" ]
	[ -L "$ROOTFS/bin/sh" ]
	[ -L "$ROOTFS/bin/ls" ]
	run grep '^root:x:0:0:' "$ROOTFS/etc/passwd"
	assert_success
	run grep '^root:x:0:' "$ROOTFS/etc/group"
	assert_success
	[ -s "$ROOTFS/etc/hostname" ]
	for d in proc sys dev tmp root etc; do [ -d "$ROOTFS/$d" ] || fail "no /$d"; done
}
