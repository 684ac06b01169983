#!/usr/bin/env bats
# img-build.bats - img-build, docker build with minidock's own tools: every
# instruction, the layers a step makes (whiteouts included), a failing step
# that leaves nothing, the cache, reproducible digests, and the images it
# writes read back by umoci, skopeo and run, and compared with buildah's.

load helpers
bats_require_minimum_version 1.5.0

B=$MINIDOCK_BIN/img-build
RUN=$MINIDOCK_BIN/run

setup() {
	require_root
	common_setup
	export MINIDOCK_IMAGES=$IMAGES
	[ -f "$IMAGES/busybox.tar" ] || skip "no teaching image (make images)"
	CTX=$TEST_TMP/ctx
	mkdir -p "$CTX"
}

teardown() {
	common_teardown
}

# The layer digests of image NAME in the store, lowest first.
layers_of() {
	local oci=$MINIDOCK_LIB_DIR/images/$1/oci m
	m=$(jq -r '.manifests[0].digest' "$oci/index.json")
	jq -r '.layers[].digest' "$oci/blobs/sha256/${m#sha256:}"
}

# The entries of layer N (1: the lowest) of image NAME.
layer_entries() {
	local d
	d=$(layers_of "$1" | sed -n "${2}p")
	tar tzf "$MINIDOCK_LIB_DIR/blobs/sha256/${d#sha256:}"
}

config_of() { jq -c "$2" "$MINIDOCK_LIB_DIR/images/$1/config.json"; }

# Nothing of a build is left: no mount, no step directory, no state.
nothing_left() {
	[ "$(mounts_matching "$TEST_TMP")" -eq 0 ] || fail "a mount is left"
	! ls "$MINIDOCK_LIB_DIR"/build/build-* 2>/dev/null || fail "a step directory is left"
	! ls "$MINIDOCK_RUN_DIR"/build-* 2>/dev/null || fail "a state directory is left"
}

@test "img-build: every instruction, and run NAME runs the image at once" {
	echo hello > "$CTX/hello.txt"
	cat > "$CTX/Dockerfile" <<'EOF'
# every instruction
FROM busybox
ARG GREETING=bonjour
ENV WHO=world \
    LANG=C.UTF-8
WORKDIR /app
COPY hello.txt ./
RUN echo "$GREETING $WHO" > out.txt
USER nobody
EXPOSE 80 53/udp
LABEL org.example.course="BTS SIO" level=2
VOLUME /data
STOPSIGNAL SIGTERM
ENTRYPOINT ["cat"]
CMD ["/app/out.txt", "/app/hello.txt"]
EOF
	run "$B" -t every --build-arg GREETING=salut "$CTX"
	assert_success
	assert_line "Step 1/13 : FROM busybox"
	assert_line "Step 6/13 : RUN echo \"\$GREETING \$WHO\" > out.txt"
	assert_line "Successfully tagged every:latest"
	run "$RUN" --rm every
	assert_success
	assert_output "salut world
hello"
	run config_of every '.config | [.Env, .Entrypoint, .Cmd, .WorkingDir, .User, .ExposedPorts, .Labels["org.example.course"], .Volumes, .StopSignal]'
	assert_output '[["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","WHO=world","LANG=C.UTF-8"],["cat"],["/app/out.txt","/app/hello.txt"],"/app","nobody",{"80/tcp":{},"53/udp":{}},"BTS SIO",{"/data":{}},"SIGTERM"]'
	# One history entry per instruction, empty_layer for the config-only ones.
	run config_of every '[.history[] | select(.empty_layer) | .created_by] | length'
	assert_output 10
	run config_of every '.rootfs.diff_ids | length'
	assert_output 3
	nothing_left
}

@test "img-build: a deleted file and an emptied directory become OCI whiteouts" {
	cat > "$CTX/Dockerfile" <<'EOF'
FROM busybox
RUN mkdir -p /d/e && touch /d/e/old /d/keep
RUN rm /etc/group && rm -rf /d/e && mkdir /d/e && touch /d/e/new
EOF
	run "$B" -t wh "$CTX"
	assert_success
	run layer_entries wh 3
	assert_line "etc/.wh.group"
	assert_line "d/e/.wh..wh..opq"
	assert_line "d/e/new"
	refute_line --partial "keep"
	run "$RUN" --rm wh sh -c 'ls /d/e; ls /d; test -e /etc/group || echo no group'
	assert_output "new
e
keep
no group"
}

@test "img-build: a failing RUN stops the build with its status, the step named, nothing left" {
	printf 'FROM busybox\nRUN echo partial > /f; exit 3\nRUN echo never\n' > "$CTX/Dockerfile"
	run "$B" -t broken "$CTX"
	assert_equal "$status" 3
	assert_output --partial "Dockerfile:2: RUN echo partial > /f; exit 3: the command returned a non-zero code: 3"
	refute_output --partial "Step 3/3"
	[ ! -e "$MINIDOCK_LIB_DIR/images/broken" ] || fail "a partial image was stored"
	nothing_left
	# Its cgroup (cg-limit --name build-...) is gone too.
	name=$(grep -o 'Running in build-[0-9a-f]*' <<<"$output" | cut -d' ' -f3)
	[ -n "$name" ] || fail "the RUN never started"
	[ -z "$(find /sys/fs/cgroup -name "$name" 2>/dev/null)" ] || fail "cgroup $name is left"
}

@test "img-build: a bad Dockerfile names file, line and instruction, exit 125, writes nothing" {
	printf 'FROM busybox\n\nFROBNICATE now\n' > "$CTX/Dockerfile"
	run "$B" -t bad "$CTX"
	assert_equal "$status" 125
	assert_output "img-build: $CTX/Dockerfile:3: unknown instruction: FROBNICATE"
	[ ! -e "$MINIDOCK_LIB_DIR" ] || fail "something was written"
	printf 'FROM busybox\nCOPY onlyone\n' > "$CTX/Dockerfile"
	run "$B" "$CTX"
	assert_equal "$status" 125
	assert_output "img-build: $CTX/Dockerfile:2: COPY: needs a source and a destination"
	printf 'RUN true\n' > "$CTX/Dockerfile"
	run "$B" "$CTX"
	assert_equal "$status" 125
	assert_output --partial "Dockerfile:1: RUN: a Dockerfile starts with FROM"
	printf 'FROM busybox\nHEALTHCHECK CMD true\n' > "$CTX/Dockerfile"
	run "$B" "$CTX"
	assert_equal "$status" 125
	assert_output --partial "Dockerfile:2: HEALTHCHECK: not supported by img-build"
	[ ! -e "$MINIDOCK_LIB_DIR" ] || fail "something was written"
}

@test "img-build: COPY outside the context and ADD of a URL are refused" {
	echo secret > "$TEST_TMP/secret"
	printf 'FROM busybox\nCOPY ../secret /s\n' > "$CTX/Dockerfile"
	run "$B" "$CTX"
	assert_equal "$status" 125
	assert_output --partial "Dockerfile:2: COPY: ../secret: outside the build context"
	# A symlink in the context is resolved inside it (openat2 RESOLVE_IN_ROOT).
	ln -s ../secret "$CTX/link"
	printf 'FROM busybox\nCOPY link /s\n' > "$CTX/Dockerfile"
	run "$B" "$CTX"
	assert_equal "$status" 125
	assert_output --partial "link: no such file in the build context"
	printf 'FROM busybox\nADD https://example.org/x.tar /x\n' > "$CTX/Dockerfile"
	run "$B" "$CTX"
	assert_equal "$status" 125
	assert_output --partial "ADD https://example.org/x.tar: a URL is not supported by img-build"
	nothing_left
}

@test "img-build: COPY --chown, directories, ADD of a tar, .dockerignore and # escape" {
	mkdir -p "$CTX/site/css"
	echo body > "$CTX/site/index.html"
	echo red > "$CTX/site/css/a.css"
	echo no > "$CTX/site/debug.log"
	echo secret > "$CTX/secret.txt"
	printf 'secret.txt\n**/*.log\n' > "$CTX/.dockerignore"
	tar czf "$CTX/arch.tgz" -C "$CTX" site/index.html
	cat > "$CTX/Dockerfile" <<'EOF'
# escape=`
FROM busybox
COPY --chown=nobody:nogroup site /site/
ADD arch.tgz /opt/
COPY . /ctx/
RUN echo "a `
    b" > /e
EOF
	run "$B" -t cp "$CTX"
	assert_success
	run "$RUN" --rm cp stat -c "%U %G %n" /site /site/css/a.css
	assert_output "nobody nogroup /site
nobody nogroup /site/css/a.css"
	run "$RUN" --rm cp ls /opt/site /ctx
	assert_output "/ctx:
Dockerfile
arch.tgz
site

/opt/site:
index.html"
	run "$RUN" --rm cp cat /e
	assert_output "a     b"
	run "$RUN" --rm cp ls /site /ctx/site
	refute_output --partial debug.log
}

@test "img-build: the cache: hit, miss when copied files change, --no-cache, --verbose says why" {
	echo one > "$CTX/f"
	printf 'FROM busybox\nRUN echo run > /r\nCOPY f /f\nRUN cat /f > /g\n' > "$CTX/Dockerfile"
	run "$B" -t c "$CTX"
	assert_success
	refute_output --partial "Using cache"
	run "$B" -t c "$CTX"
	assert_success
	[ "$(grep -c 'Using cache' <<<"$output")" -eq 3 ] || fail "not every layer came from the cache"
	echo two > "$CTX/f"
	run "$B" -v -t c "$CTX"
	assert_success
	assert_line --partial "img-build: cached: the same parent and instruction made layer"
	assert_line "img-build: not cached: the files it copies changed"
	assert_line "img-build: not cached: nothing was built on this parent before (the first build, or a step above changed)"
	run "$RUN" --rm c cat /g
	assert_output two
	run "$B" --no-cache -t c "$CTX"
	refute_output --partial "Using cache"
}

@test "img-build: FROM scratch, a static binary and nothing else" {
	[ -x /bin/busybox ] && file -L /bin/busybox | grep -q 'statically linked' ||
		skip "no static /bin/busybox (busybox-static)"
	cp /bin/busybox "$CTX/busybox"
	printf 'FROM scratch\nCOPY busybox /bin/busybox\nCMD ["/bin/busybox", "echo", "from scratch"]\n' \
		> "$CTX/Dockerfile"
	run "$B" -t tiny "$CTX"
	assert_success
	run layer_entries tiny 1
	assert_output "bin/
bin/busybox"
	run "$RUN" --rm tiny
	assert_output "from scratch"
}

@test "img-build: the same Dockerfile and context give the same digest; SOURCE_DATE_EPOCH another" {
	echo x > "$CTX/x"
	printf 'FROM busybox\nCOPY x /x\nRUN echo built > /when; touch /x\n' > "$CTX/Dockerfile"
	run "$B" --no-cache "$CTX"
	first=$(grep -o 'manifest sha256:[0-9a-f]*' <<<"$output")
	touch "$CTX/x"
	run "$B" --no-cache "$CTX"
	second=$(grep -o 'manifest sha256:[0-9a-f]*' <<<"$output")
	[ -n "$first" ] && [ "$first" = "$second" ] || fail "$first != $second"
	run env SOURCE_DATE_EPOCH=1700000000 "$B" --no-cache "$CTX"
	refute_output --partial "$first"
}

@test "img-build: -o oci, oci-archive, docker-archive are read by umoci and skopeo" {
	command -v umoci >/dev/null && command -v skopeo >/dev/null ||
		skip "umoci or skopeo not installed (make deps)"
	printf 'FROM busybox\nRUN echo hi > /hi && rm /etc/group\nCMD ["cat", "/hi"]\n' > "$CTX/Dockerfile"
	run "$B" -t out:v1 -o "oci:$TEST_TMP/oci" "$CTX"
	assert_success
	umoci unpack --image "$TEST_TMP/oci:v1" "$TEST_TMP/bundle" >/dev/null
	[ "$(cat "$TEST_TMP/bundle/rootfs/hi")" = hi ]
	[ ! -e "$TEST_TMP/bundle/rootfs/etc/group" ] || fail "the whiteout was not applied"
	run jq -c .process.args "$TEST_TMP/bundle/config.json"
	assert_output '["cat","/hi"]'
	run skopeo inspect "oci:$TEST_TMP/oci:v1"
	assert_success
	assert_output --partial '"Created": "1970-01-01T00:00:00Z"'
	run "$B" -o "oci-archive:$TEST_TMP/img.tar" "$CTX"
	run skopeo inspect --format '{{len .Layers}}' "oci-archive:$TEST_TMP/img.tar"
	assert_output 2
	run "$B" -t out -o "docker-archive:$TEST_TMP/docker.tar" "$CTX"
	run skopeo inspect --format '{{len .Layers}}' "docker-archive:$TEST_TMP/docker.tar"
	assert_output 2
	# img-unpack reads it too (docker save of Docker 25+).
	run "$MINIDOCK_BIN/img-unpack" --inspect "$TEST_TMP/docker.tar"
	assert_success
	assert_output --partial "out:latest"
}

# Every file of a tree: name, type and mode, owner, size, link target,
# content hash; no time.
tree_of() {
	(cd "$1" && find . -mindepth 1 -printf '%p %M %U:%G %s %l\n' | sort &&
	 find . -type f -exec sha256sum {} + | sort -k2)
}

@test "img-build: the tree and config agree with buildah bud's, apart from timestamps" {
	command -v buildah >/dev/null && command -v umoci >/dev/null ||
		skip "buildah or umoci not installed (make deps)"
	echo hello > "$CTX/hello.txt"
	mkdir "$CTX/dir" && echo in > "$CTX/dir/in"
	cat > "$CTX/Dockerfile" <<'EOF'
ARG BASE
FROM $BASE
ENV A=1 B="two words"
WORKDIR /app
COPY hello.txt dir ./
RUN mkdir -p /d/e && echo x > /d/e/f && echo "$A $B" > /app/env && rm /etc/group
RUN rm -rf /d/e && mkdir /d/e && rm /app/in
USER nobody
EXPOSE 8080
LABEL k=v
VOLUME /data
ENTRYPOINT ["cat"]
CMD ["/app/env"]
EOF
	run "$B" --build-arg BASE="$IMAGES/busybox-oci.tar" -o "oci:$TEST_TMP/ours" -t cmp "$CTX"
	assert_success
	local bh=(buildah --root "$TEST_TMP/buildah" --runroot "$TEST_TMP/buildah-run"
		  --storage-driver vfs)
	run "${bh[@]}" bud --isolation chroot \
		--build-arg BASE="oci-archive:$IMAGES/busybox-oci.tar" -t cmp "$CTX"
	[ "$status" -eq 0 ] || skip "buildah bud cannot run here: ${lines[-1]}"
	"${bh[@]}" push cmp "oci:$TEST_TMP/theirs:cmp" >/dev/null 2>&1
	"${bh[@]}" rmi -a -f >/dev/null 2>&1 || true
	umoci unpack --image "$TEST_TMP/ours:latest" "$TEST_TMP/u1" >/dev/null
	umoci unpack --image "$TEST_TMP/theirs:cmp" "$TEST_TMP/u2" >/dev/null
	[ "$(cat "$TEST_TMP/u2/rootfs/app/env")" = "1 two words" ] || fail "buildah built something else"
	diff <(tree_of "$TEST_TMP/u1/rootfs") <(tree_of "$TEST_TMP/u2/rootfs")
	local keys='.config | {Env, Entrypoint, Cmd, WorkingDir, User, ExposedPorts, Volumes,
		Labels: (.Labels | del(."io.buildah.version"))}'
	ours=$(skopeo inspect --config "oci:$TEST_TMP/ours:latest" | jq -S -c "$keys")
	theirs=$(skopeo inspect --config "oci:$TEST_TMP/theirs:cmp" | jq -S -c "$keys")
	assert_equal "$ours" "$theirs"
}

# as_nobody COMMAND...: COMMAND as nobody, its home in $TEST_TMP/home.
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups env -i HOME="$TEST_TMP/home" \
		XDG_RUNTIME_DIR="$TEST_TMP/home/run" PATH=/usr/bin:/bin \
		MINIDOCK_IMAGES="$IMAGES" ASAN_OPTIONS="$ASAN_OPTIONS" \
		UBSAN_OPTIONS="$UBSAN_OPTIONS" "$@"
}

@test "img-build as an ordinary user: in a user namespace, the same image as root's, run rootless" {
	command -v setpriv >/dev/null || skip "setpriv (util-linux) not installed"
	echo hi > "$CTX/hi.txt"
	cat > "$CTX/Dockerfile" <<'EOF'
FROM busybox
COPY hi.txt /hi.txt
RUN echo built > /built.txt && mkdir -p /d && touch /d/x && rm /etc/group
RUN rm -rf /d && mkdir /d && touch /d/y
CMD ["cat", "/built.txt", "/hi.txt"]
EOF
	run -0 "$B" -t same "$CTX"
	local root_id=${lines[-2]}
	[ -n "$TEST_TMP" ] && mkdir "$TEST_TMP/home" && chown 65534:65534 "$TEST_TMP/home"
	chmod -R a+rX "$CTX"
	chmod 711 "$TEST_TMP"
	as_nobody "$B" --help >/dev/null 2>&1 || skip "$MINIDOCK_BIN is out of an ordinary user's reach"
	run --separate-stderr as_nobody "$B" --verbose -t same "$CTX"
	assert_success
	[[ "$stderr" == *'img-build: rootless: execv('*'--userns --mount --privileged'* ]] ||
		fail "not run again in a user namespace: $stderr"
	[[ "$stderr" == *',redirect_dir=nofollow,userxattr")'* ]] || fail "no userxattr mount: $stderr"
	# reproducible: the very image root built (owners, whiteout, opaque directory)
	assert_equal "${lines[-2]}" "$root_id"
	local lib=$TEST_TMP/home/.local/share/minidock
	[ -f "$lib/images/same/layers" ] || fail "not in the user's store"
	run -0 as_nobody "$RUN" --rm same
	assert_output "built
hi"
	run -0 as_nobody "$RUN" --rm same sh -c 'ls /d; ls /etc/group 2>&1; true'
	assert_line --index 0 y
	assert_line --index 1 --partial "No such file"
	# a step with a bridge is refused, with the reason
	run as_nobody "$B" --network bridge "$CTX"
	assert_equal "$status" 125
	assert_output --partial "--network bridge: a rootless build step has no network"
	run ls -A "$lib/build"
	refute_output --regexp "^build-"
}
