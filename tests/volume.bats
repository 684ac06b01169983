#!/usr/bin/env bats
# volume.bats - named volumes (issue 15): run -v NAME:/path makes one on
# first use, filled from the image while empty; the data outlives
# container rm; volume ls, inspect, rm (refused while any container names
# it), prune; :ro, --read-only and --tmpfs beside a volume.
#
# Every container runs with --network none: no bridge, nothing on the host.

load helpers
bats_require_minimum_version 1.5.0

RUN=$MINIDOCK_BIN/run
C=$MINIDOCK_BIN/container
V=$MINIDOCK_BIN/volume

setup() {
	require_root
	common_setup
	export MINIDOCK_IMAGES=$IMAGES
	[ -f "$IMAGES/busybox.tar" ] || skip "no teaching image (make images)"
	N=v$(printf %04x $((RANDOM % 65536)))
}

teardown() {
	local n
	for n in $("$C" ls -q 2>/dev/null); do "$C" rm -f "$n"; done >/dev/null 2>&1
	"$C" prune >/dev/null 2>&1
	"$V" prune -f >/dev/null 2>&1
	common_teardown
}

@test "volume: run -v NAME:/path makes the volume; its data outlives container rm; ls lists it" {
	run "$RUN" --network none --name "$N" -v db:/data busybox sh -c 'echo kept >/data/f'
	assert_success
	[ -d "$MINIDOCK_LIB_DIR/volumes/db/_data" ] || fail "no volumes/db/_data"
	run "$C" rm "$N"
	assert_success
	run "$RUN" --rm --network none -v db:/data busybox cat /data/f
	assert_success
	assert_output kept
	run "$V" ls
	assert_success
	assert_line --index 0 "DRIVER    VOLUME NAME"
	assert_line --index 1 "local     db"
	run "$V" ls -q
	assert_output db
	# the chain ns-enter gets: a bind mount of its directory
	run "$RUN" --dry-run --network none --name "$N" -v db:/data:ro busybox true
	assert_success
	assert_output --partial "--volume $MINIDOCK_LIB_DIR/volumes/db/_data:/data:ro"
}

@test "volume: a new volume gets a copy of the image's content at the path (owners, modes, times, links, hard links, fifo); later runs copy nothing" {
	# an image with a tree of several owners and modes at /srv/app
	local root=$TEST_TMP/root
	cp -a "$ROOTFS" "$root"
	mkdir -p "$root/srv/app/sub"
	echo secret >"$root/srv/app/file"
	echo tool >"$root/srv/app/suid"
	ln -s file "$root/srv/app/rel"
	ln -s /etc/passwd "$root/srv/app/abs"
	mkfifo "$root/srv/app/fifo"
	ln "$root/srv/app/file" "$root/srv/app/sub/hard"
	chown 1000:1001 "$root/srv/app" "$root/srv/app/file"
	chown -h 33:33 "$root/srv/app/rel"
	chown 33:34 "$root/srv/app/sub"
	chmod 0750 "$root/srv/app"
	chmod 0640 "$root/srv/app/file"
	chmod 4755 "$root/srv/app/suid"
	chmod 0700 "$root/srv/app/sub"
	touch -h -d '2001-02-03 04:05:06' "$root/srv/app/file" "$root/srv/app/rel" "$root/srv/app/sub"
	tar -C "$root" --numeric-owner -cf "$TEST_TMP/app.tar" .
	run "$RUN" --rm --network none -v appdata:/srv/app "$TEST_TMP/app.tar" ls /srv/app
	assert_success
	# a directory's size is its filesystem's bookkeeping (4096 on ext4, small
	# on tmpfs): not what the image defines, so not compared
	listing() { (cd "$1" && find . \( -type d -printf '%p %U:%G %m %y %l - %TY-%Tm-%Td %TH:%TM\n' \) \
		-o -printf '%p %U:%G %m %y %l %s %TY-%Tm-%Td %TH:%TM\n' | sort); }
	expected=$(listing "$root/srv/app")
	# the directory itself takes the image's owner and mode, as docker's
	run listing "$MINIDOCK_LIB_DIR/volumes/appdata/_data"
	assert_output "$expected"
	assert_line ". 1000:1001 750 d  - $(cd "$root/srv/app" && find . -maxdepth 0 -printf '%TY-%Tm-%Td %TH:%TM')"
	assert_line "./rel 33:33 777 l file 4 2001-02-03 04:05"
	data=$MINIDOCK_LIB_DIR/volumes/appdata/_data
	assert_equal "$(stat -c %i "$data/file")" "$(stat -c %i "$data/sub/hard")"
	# not empty any more: a file removed stays removed
	run "$RUN" --rm --network none -v appdata:/srv/app "$TEST_TMP/app.tar" rm /srv/app/file
	assert_success
	run "$RUN" --rm --network none -v appdata:/srv/app "$TEST_TMP/app.tar" ls /srv/app
	assert_success
	refute_line file
	assert_line suid
	# a path the image does not have: an empty volume, made there
	run "$RUN" --rm --network none -v fresh:/no/such busybox ls -A /no/such
	assert_success
	assert_output ""
}

@test "volume: :ro refuses writes inside; --read-only leaves a volume writable; --tmpfs /run beside them" {
	run "$RUN" --rm --network none -v db:/data busybox sh -c 'echo one >/data/f'
	assert_success
	run "$RUN" --rm --network none -v db:/data:ro busybox sh -c 'cat /data/f; echo two >/data/f'
	assert_failure
	assert_line one
	assert_output --partial "Read-only file system"
	run "$RUN" --rm --network none --read-only -v db:/data --tmpfs /run:size=1m busybox \
		sh -c 'echo three >/data/f && echo >/run/pid && echo ok; echo x >/etc/x'
	assert_failure
	assert_line ok
	assert_output --partial "Read-only file system"
	assert_equal "$(cat "$MINIDOCK_LIB_DIR/volumes/db/_data/f")" three
	# --read-only's own tmpfs on /tmp never hides a volume or a --tmpfs there
	run "$RUN" --rm --network none --read-only -v db:/tmp busybox cat /tmp/f
	assert_success
	assert_output three
	run "$RUN" --rm --network none --read-only --tmpfs /tmp:size=2m busybox sh -c 'df -k /tmp | tail -n1'
	assert_output --regexp '^tmpfs +2048 '
	# the tmpfs is the container's own, of the size asked, gone with it
	run "$RUN" --rm --network none --tmpfs /run:size=1m busybox sh -c 'df -k /run | tail -n1'
	assert_success
	assert_output --regexp '^tmpfs +1024 '
	[ ! -e "$MINIDOCK_LIB_DIR/volumes/run" ] || fail "--tmpfs made a volume"
	# a volume below a tmpfs, whatever the order given: the tmpfs first
	run "$RUN" --rm --network none -v db:/run/db --tmpfs /run busybox cat /run/db/f
	assert_success
	assert_output three
}

@test "volume rm: refused (exit 125) while any container names the volume: running, exited, created, killed mid-way; -f does not override" {
	run "$V" create db
	assert_success
	assert_output db
	# exited
	run "$RUN" --network none --name "$N" -v db:/data busybox true
	assert_success
	run "$V" rm db
	assert_equal "$status" 125
	assert_output "volume: db: volume is in use by container $N (remove it first: container rm $N)"
	run "$V" rm -f db
	assert_equal "$status" 125
	run "$C" rm "$N"
	assert_success
	# running
	run "$RUN" -d --network none --name "$N" -v db:/data busybox sleep 60
	assert_success
	run "$V" rm db
	assert_equal "$status" 125
	run "$C" rm -f "$N"
	assert_success
	# created (--dry-run)
	run "$RUN" --dry-run --network none --name "$N" -v db:/data busybox true
	assert_success
	run "$V" rm db
	assert_equal "$status" 125
	run "$C" rm "$N"
	assert_success
	# a run killed (SIGKILL) just after it recorded the volume, before
	# using it: its state (creating, disk, rootfs, volume db) still names it
	run -137 env MINIDOCK_TEST_STOP_AT=4 "$RUN" --network none --name "$N" -v db:/data busybox true
	run cat "$MINIDOCK_RUN_DIR/$N/state"
	assert_line --index 0 creating
	assert_line "volume db"
	run "$V" rm db
	assert_equal "$status" 125
	assert_output --partial "in use by container $N"
	run "$C" prune
	assert_success
	# no user left: removed, and its data with it
	run "$V" rm db
	assert_success
	assert_output db
	[ ! -e "$MINIDOCK_LIB_DIR/volumes/db" ] || fail "volumes/db left"
	run "$V" ls -q
	assert_output ""
}

@test "volume inspect: name, mountpoint, created, the containers using it, as JSON" {
	command -v jq >/dev/null || skip "jq not installed (make deps)"
	run "$RUN" --network none --name "$N" -v db:/data busybox true
	assert_success
	run "$V" inspect db
	assert_success
	assert_equal "$(jq -r '.[0].Name' <<<"$output")" db
	assert_equal "$(jq -r '.[0].Mountpoint' <<<"$output")" "$MINIDOCK_LIB_DIR/volumes/db/_data"
	assert_equal "$(jq -r '.[0].Driver' <<<"$output")" local
	assert_equal "$(jq -r '.[0].UsedBy | join(",")' <<<"$output")" "$N"
	[[ "$(jq -r '.[0].CreatedAt' <<<"$output")" =~ ^20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-9:]{8}Z$ ]] ||
		fail "CreatedAt: $(jq -r '.[0].CreatedAt' <<<"$output")"
	run "$C" rm "$N"
	run "$V" inspect db
	assert_equal "$(jq -r '.[0].UsedBy | length' <<<"$output")" 0
	run "$V" inspect nosuch
	assert_equal "$status" 125
	assert_output "volume: nosuch: no such volume (see: volume ls)"
}

@test "volume prune: removes only the volumes no container uses, says what it freed; asks first without -f" {
	run "$V" create unused
	assert_success
	head -c 1500 /dev/zero >"$MINIDOCK_LIB_DIR/volumes/unused/_data/f"
	run "$RUN" --network none --name "$N" -v used:/data busybox true
	assert_success
	run "$V" ls -q -f dangling=true
	assert_output unused
	run "$V" ls -f dangling=false
	assert_output "$(printf 'DRIVER    VOLUME NAME\nlocal     used')"
	run "$V" ls -f bogus=1
	assert_equal "$status" 125
	# not confirmed: nothing removed
	run "$V" prune <<<"n"
	assert_success
	assert_output --partial "Are you sure you want to continue? [y/N]"
	run "$V" ls -q
	assert_output "$(printf 'unused\nused')"
	run "$V" prune <<<"y"
	assert_success
	assert_line "Deleted Volumes:"
	assert_line unused
	assert_line "Total reclaimed space: 1.5kB"
	run "$V" ls -q
	assert_output used
	# an unnamed volume, as docker's; and what a crash left mid-create
	run "$V" create
	assert_success
	assert_output --regexp '^[0-9a-f]{64}$'
	mkdir -p "$MINIDOCK_LIB_DIR/volumes/.half.new/_data"
	run "$V" prune -f
	assert_success
	assert_line --regexp '^[0-9a-f]{64}$'
	[ ! -e "$MINIDOCK_LIB_DIR/volumes/.half.new" ] || fail "prune left .half.new"
	run "$V" prune -f
	assert_success
	assert_output "Total reclaimed space: 0B"
	run "$C" rm "$N"
	run "$V" prune -f
	assert_line used
}

@test "volume: container rm leaves named volumes; container inspect lists the mounts" {
	command -v jq >/dev/null || skip "jq not installed (make deps)"
	mkdir "$TEST_TMP/host"
	run "$RUN" --network none --name "$N" -v db:/data:ro -v "$TEST_TMP/host:/h" \
		--tmpfs /run busybox true
	assert_success
	run "$C" inspect "$N"
	assert_success
	mounts=$(jq -c '[.[0].Mounts[] | [.Type, .Name // "", .Source, .Destination, .RW]]' <<<"$output")
	assert_equal "$mounts" "$(printf '[["volume","db","%s","/data",false],["bind","","%s","/h",true],["tmpfs","","","/run",true]]' \
		"$MINIDOCK_LIB_DIR/volumes/db/_data" "$TEST_TMP/host")"
	run "$C" rm "$N"
	assert_success
	run "$V" ls -q
	assert_output db
}

@test "volume: bad names and usage are refused with a message, exit 125, and nothing is made" {
	run "$RUN" --rm --network none -v 'a!b:/data' busybox true
	assert_equal "$status" 125
	assert_output --partial '"a!b" is not a volume name'
	run "$RUN" --rm --network none -v x:/data busybox true
	assert_equal "$status" 125
	run "$RUN" --rm --network none -v _db:/data busybox true
	assert_equal "$status" 125
	run "$RUN" --rm --network none -v db:data busybox true
	assert_equal "$status" 125
	run "$RUN" --rm --network none -v db:/ busybox true
	assert_equal "$status" 125
	assert_output --partial "an absolute path other than /"
	run "$RUN" --rm --network none --tmpfs run busybox true
	assert_equal "$status" 125
	assert_output --partial "--tmpfs run: the destination must be an absolute path"
	run "$RUN" --rm --network none --tmpfs /run:size=1m,bogus busybox true
	assert_equal "$status" 125
	assert_output --partial "unknown option"
	run "$V" create "$(printf 'a%.0s' $(seq 241))"
	assert_equal "$status" 125
	run "$V" create "$(printf 'a%.0s' $(seq 240))"
	assert_success
	run "$V" rm "$(printf 'a%.0s' $(seq 240))"
	assert_success
	run "$V" create 'bad name'
	assert_equal "$status" 125
	assert_output --partial "is not a volume name"
	run "$V" create a b
	assert_equal "$status" 125
	run "$V" frobnicate
	assert_equal "$status" 125
	run "$V" rm nosuch
	assert_equal "$status" 125
	assert_output "volume: nosuch: no such volume (see: volume ls)"
	run "$V" rm -f nosuch
	assert_success
	run "$V" ls -q
	assert_output ""
	[ ! -e "$MINIDOCK_LIB_DIR/containers" ] || [ -z "$(ls -A "$MINIDOCK_LIB_DIR/containers")" ] ||
		fail "a container directory was made"
	run "$C" ls -q
	assert_output ""
}

@test "volume: two runs that make the same new volume at once: one copy, both see it whole" {
	for i in 1 2 3 4; do
		"$RUN" --rm --network none -v race:/etc busybox cat /etc/passwd >"$TEST_TMP/out$i" 2>&1 &
	done
	wait
	for i in 1 2 3 4; do
		run cat "$TEST_TMP/out$i"
		assert_output "$(cat "$ROOTFS/etc/passwd")"
	done
	run diff -r "$ROOTFS/etc" "$MINIDOCK_LIB_DIR/volumes/race/_data"
	assert_success
}
