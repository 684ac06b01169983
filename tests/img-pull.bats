#!/usr/bin/env bats
# img-pull.bats - img-pull, img-push and `run REF` against registries the
# tests start on 127.0.0.1 and stop (by PID) in teardown: Debian's
# docker-registry (distribution 2.8), anonymous, with htpasswd basic auth
# over TLS (a certificate made here with openssl), and in its token mode
# (a token server of our own, tests/token-server.py, signing with a key
# whose certificate the registry trusts); and a hostile registry of our own
# (tests/fake-registry.py).  Images are pushed into it by skopeo and
# buildah, and what img-push sends is read back by skopeo.  Nothing here
# reaches a registry outside the machine: docker.io goes to the mirror
# MINIDOCK_REGISTRY_MIRROR names, a closed loopback port unless a test
# sets its own registry (helpers.bash).

load helpers
load image-trees
bats_require_minimum_version 1.5.0

PULL=$MINIDOCK_BIN/img-pull
PUSH=$MINIDOCK_BIN/img-push

setup() {
	common_setup
	command -v docker-registry >/dev/null && command -v skopeo >/dev/null ||
		skip "no docker-registry or skopeo (make deps)"
	[ -d "$IMAGES/busybox-oci" ] || skip "no teaching images (make images)"
	PIDS=()
	export MINIDOCK_IMAGES=$IMAGES
	# No ~/.docker/config.json of the machine's.
	export DOCKER_CONFIG=$TEST_TMP/docker
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	common_teardown
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_http URL: until it answers (any HTTP status), at most 10 s.
wait_http() {
	local i
	for i in $(seq 100); do
		curl -sk -o /dev/null "$1" && return 0
		sleep 0.1
	done
	fail "nothing answers at $1"
}

# start_registry [tls|token]: docker-registry on 127.0.0.1:$PORT, storage
# in $TEST_TMP; with tls, htpasswd auth (user minidock, password secret) and
# a certificate for localhost and 127.0.0.1 signed by $TEST_TMP/ca.crt; with
# token, the registry's token auth (realm $REALM: tests/token-server.py,
# the same user; anonymous may pull).
start_registry() {
	PORT=$(free_port)
	R=localhost:$PORT
	local conf=$TEST_TMP/registry.yml
	cat > "$conf" <<-EOF
	version: 0.1
	log:
	  level: error
	  accesslog:
	    disabled: true
	storage:
	  filesystem:
	    rootdirectory: $TEST_TMP/registry
	http:
	  addr: 127.0.0.1:$PORT
	EOF
	if [ "${1:-}" = tls ]; then
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=minidock-test-ca \
			-keyout "$TEST_TMP/ca.key" -out "$TEST_TMP/ca.crt" 2>/dev/null
		openssl req -newkey rsa:2048 -nodes -subj /CN=localhost \
			-keyout "$TEST_TMP/reg.key" -out "$TEST_TMP/reg.csr" 2>/dev/null
		printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$TEST_TMP/san"
		openssl x509 -req -in "$TEST_TMP/reg.csr" -CA "$TEST_TMP/ca.crt" \
			-CAkey "$TEST_TMP/ca.key" -CAcreateserial -days 2 \
			-extfile "$TEST_TMP/san" -out "$TEST_TMP/reg.crt" 2>/dev/null
		htpasswd -Bbn minidock secret > "$TEST_TMP/htpasswd"
		cat >> "$conf" <<-EOF
		  tls:
		    certificate: $TEST_TMP/reg.crt
		    key: $TEST_TMP/reg.key
		auth:
		  htpasswd:
		    realm: minidock-test
		    path: $TEST_TMP/htpasswd
		EOF
	fi
	if [ "${1:-}" = token ]; then
		# The registry's token mode: a token server of the test's own
		# (token-server.py) signs with a key whose certificate the
		# registry trusts (rootcertbundle).
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=minidock-token \
			-keyout "$TEST_TMP/token.key" -out "$TEST_TMP/token.crt" 2>/dev/null
		python3 "$BATS_TEST_DIRNAME/token-server.py" "$TEST_TMP/tport" \
			"$TEST_TMP/token.key" "$TEST_TMP/token.crt" minidock-issuer minidock-registry &
		PIDS+=($!)
		local i
		for i in $(seq 100); do [ -s "$TEST_TMP/tport" ] && break; sleep 0.05; done
		REALM=http://127.0.0.1:$(cat "$TEST_TMP/tport")/token
		cat >> "$conf" <<-EOF
		auth:
		  token:
		    realm: $REALM
		    service: minidock-registry
		    issuer: minidock-issuer
		    rootcertbundle: $TEST_TMP/token.crt
		EOF
	fi
	docker-registry serve "$conf" > "$TEST_TMP/registry.log" 2>&1 &
	PIDS+=($!)
	local scheme=http
	[ "${1:-}" = tls ] && scheme=https
	wait_http "$scheme://127.0.0.1:$PORT/v2/"
}

# start_fake [bearer]: the hostile registry (tests/fake-registry.py) on
# 127.0.0.1, at $FAKE (localhost:PORT); with bearer, its token flow.
start_fake() {
	python3 "$BATS_TEST_DIRNAME/fake-registry.py" "$TEST_TMP/port" "$@" &
	PIDS+=($!)
	local i
	for i in $(seq 100); do [ -s "$TEST_TMP/port" ] && break; sleep 0.1; done
	FAKE=localhost:$(cat "$TEST_TMP/port")
	wait_http "http://$FAKE/v2/"
}

# put IMAGE NAME [SKOPEO OPTIONS...]: skopeo copies the OCI layout IMAGE
# into the anonymous registry as NAME.
put() {
	local src=$1 name=$2
	shift 2
	skopeo copy --quiet --dest-tls-verify=false "$@" "oci:$src" "docker://$R/$name" ||
		fail "skopeo could not push $name"
}

# No image named NAME, no layer directory, no half-written blob in the store.
assert_store_has_no() {
	[ ! -e "$MINIDOCK_LIB_DIR/images/$1" ] || fail "image $1 recorded"
	! ls "$MINIDOCK_LIB_DIR"/oci/blobs/sha256/ 2>/dev/null | grep -q part ||
		fail "a half-written blob is left: $(ls "$MINIDOCK_LIB_DIR"/oci/blobs/sha256/)"
}

# ---- pull from the anonymous registry ----

@test "img-pull: an OCI image into run's store; run localhost:PORT/NAME runs it; a second pull fetches nothing" {
	require_root
	start_registry
	put "$IMAGES/busybox-oci" busybox:latest
	run -0 "$PULL" --verbose "$R/busybox"
	assert_output --partial "GET http://$R/v2/busybox/manifests/latest -> HTTP 200"
	assert_output --partial "application/vnd.oci.image.manifest.v1+json"
	assert_output --partial "sha256 verified"
	assert_output --partial "$R/busybox:latest: pulled sha256:"
	assert [ -f "$MINIDOCK_LIB_DIR/images/localhost_${PORT}_busybox/layers" ]
	run -0 "$MINIDOCK_BIN/run" --rm --network none "$R/busybox" /bin/cat /www/index.html
	assert_output --partial "minidock"
	# Again: the blobs are there, the layers too.
	run -0 "$PULL" --verbose "$R/busybox:latest"
	assert_output --partial "already in"
	refute_output --partial "/blobs/sha256:"
	assert_output --partial "up to date"
}

@test "img-pull: a Docker schema 2 manifest; -o oci:DIR gives a layout umoci unpacks to the tree img-unpack gives" {
	start_registry
	put "$IMAGES/busybox-oci" bb:v2 --format v2s2
	run -0 "$PULL" --verbose -o "oci:$TEST_TMP/out" "$R/bb:v2"
	assert_output --partial "application/vnd.docker.distribution.manifest.v2+json"
	command -v umoci >/dev/null || skip "no umoci"
	umoci unpack --image "$TEST_TMP/out:v2" "$TEST_TMP/bundle" >/dev/null
	run -0 "$MINIDOCK_BIN/img-unpack" "$IMAGES/busybox-oci" "$TEST_TMP/ref"
	diff <(cd "$TEST_TMP/bundle/rootfs" && find . | sort) <(cd "$TEST_TMP/ref" && find . | sort) ||
		fail "umoci's tree differs"
	run -0 skopeo inspect "oci:$TEST_TMP/out:v2"
	assert_output --partial '"Architecture": "amd64"'
}

@test "img-pull: an image index with linux/amd64 and linux/arm64: the host's by default, --platform picks, a missing one is refused" {
	[ "$(uname -m)" = x86_64 ] || skip "the index's default is amd64 here"
	start_registry
	put "$IMAGES/busybox-oci" multi:amd64
	# The "arm64" image: the same busybox, its config saying arm64 and a
	# second layer so the trees differ (a hand-made index, as buildx writes).
	python3 - "$IMAGES/busybox-oci" "$TEST_TMP/arm" <<-'EOF'
	import hashlib, io, json, os, shutil, sys, tarfile
	src, dst = sys.argv[1], sys.argv[2]
	shutil.copytree(src, dst)
	def put(b):
	    d = hashlib.sha256(b).hexdigest()
	    open(f"{dst}/blobs/sha256/{d}", "wb").write(b)
	    return "sha256:" + d, len(b)
	idx = json.load(open(f"{dst}/index.json"))
	m = json.load(open(f"{dst}/blobs/sha256/" + idx["manifests"][0]["digest"][7:]))
	c = json.load(open(f"{dst}/blobs/sha256/" + m["config"]["digest"][7:]))
	buf = io.BytesIO()
	with tarfile.open(fileobj=buf, mode="w") as t:
	    ti = tarfile.TarInfo("arch"); data = b"arm64\n"; ti.size = len(data)
	    t.addfile(ti, io.BytesIO(data))
	layer = buf.getvalue()
	ld, ls = put(layer)
	m["layers"].append({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": ls})
	c["architecture"] = "arm64"
	c["rootfs"]["diff_ids"].append(ld)
	cd, cs = put(json.dumps(c).encode())
	m["config"].update(digest=cd, size=cs)
	md, ms = put(json.dumps(m).encode())
	idx["manifests"] = [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms}]
	json.dump(idx, open(f"{dst}/index.json", "w"))
	EOF
	put "$TEST_TMP/arm" multi:arm64
	local amd arm
	amd=$(skopeo inspect --tls-verify=false --raw "docker://$R/multi:amd64" | sha256sum | cut -c1-64)
	arm=$(skopeo inspect --tls-verify=false --raw "docker://$R/multi:arm64" | sha256sum | cut -c1-64)
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
	  {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"platform":{"os":"linux","architecture":"amd64"}},
	  {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"platform":{"os":"linux","architecture":"arm64"}}]}' \
		"$amd" "$(skopeo inspect --tls-verify=false --raw "docker://$R/multi:amd64" | wc -c)" \
		"$arm" "$(skopeo inspect --tls-verify=false --raw "docker://$R/multi:arm64" | wc -c)" > "$TEST_TMP/index.json"
	curl -sf -X PUT -H "Content-Type: application/vnd.oci.image.index.v1+json" \
		--data-binary "@$TEST_TMP/index.json" "http://$R/v2/multi/manifests/latest" ||
		fail "the registry refused the index"

	run -0 "$PULL" --verbose -o "oci:$TEST_TMP/a" "$R/multi"
	assert_output --partial "image index: linux/amd64 is manifest sha256:$amd"
	run -0 "$PULL" -o "oci:$TEST_TMP/b" --platform linux/arm64 "$R/multi"
	run -0 "$MINIDOCK_BIN/img-unpack" "$TEST_TMP/b" "$TEST_TMP/tree"
	assert_equal "$(cat "$TEST_TMP/tree/arch")" arm64
	run -125 "$PULL" --platform linux/s390x "$R/multi"
	assert_output "img-pull: latest: no image for linux/s390x (the index has: linux/amd64, linux/arm64)"
	assert_store_has_no "localhost_${PORT}_multi"
}

@test "buildah push into the registry, then img-pull: the tree umoci unpacks; run runs it" {
	command -v buildah >/dev/null || skip "buildah is not installed (make deps)"
	start_registry
	SRC=$IMAGES/src
	umoci_image "$TEST_TMP/src"
	local b=(env -u DOCKER_CONFIG buildah --root "$TEST_TMP/storage" --runroot "$TEST_TMP/runroot" --storage-driver vfs)
	# buildah pull -q prints the image's ID; its name from an oci: layout
	# differs between buildah releases, so it is tagged by that ID
	local id
	id=$(cd "$TEST_TMP" && "${b[@]}" pull -q oci:src:t) && "${b[@]}" tag "$id" localhost/src:latest ||
		fail "buildah could not load the image"
	"${b[@]}" push -q --tls-verify=false localhost/src:latest "docker://$R/fromb:1" ||
		fail "buildah push failed"
	run -0 "$PULL" -o "oci:$TEST_TMP/out" "$R/fromb:1"
	run -0 "$MINIDOCK_BIN/img-unpack" "$TEST_TMP/out" "$TEST_TMP/tree"
	assert_same_tree "$TEST_TMP/tree" "$TEST_TMP/ref/rootfs"
	umoci unpack --image "$TEST_TMP/out:1" "$TEST_TMP/bundle" >/dev/null
	assert_same_tree "$TEST_TMP/bundle/rootfs" "$TEST_TMP/ref/rootfs"
	require_root
	run -0 "$MINIDOCK_BIN/run" --rm --network none "$R/fromb:1" /bin/cat /data/new
	assert_output --partial "pulling"
	assert_output --partial two
}

@test "Docker's defaults: img-pull debian:12 and run debian:12 go to docker.io/library/, here through MINIDOCK_REGISTRY_MIRROR" {
	start_registry
	put "$IMAGES/busybox-oci" library/debian:12
	put "$IMAGES/busybox-oci" library/alpine:latest
	export MINIDOCK_REGISTRY_MIRROR=$R
	run -0 "$PULL" --verbose -o "oci:$TEST_TMP/o" debian:12
	assert_output --partial "docker.io: through the mirror $R (MINIDOCK_REGISTRY_MIRROR)"
	assert_output --partial "GET http://$R/v2/library/debian/manifests/12 -> HTTP 200"
	assert_output --partial "docker.io/library/debian:12: pulled sha256:"
	require_root
	run -0 "$MINIDOCK_BIN/run" --rm --network none debian:12 /bin/cat /www/index.html
	assert_output --partial "unable to find image 'debian:12'"
	assert_output --partial "minidock"
	run -0 "$MINIDOCK_BIN/run" --rm --network none alpine /bin/true
	# a name with a '/' that is no file here: Docker Hub's, as docker run
	put "$IMAGES/busybox-oci" library/hello:1
	run -0 "$MINIDOCK_BIN/run" --rm --network none library/hello:1 /bin/cat /www/index.html
	assert_output --partial "unable to find image 'library/hello:1'"
	assert_output --partial "minidock"
	run -125 "$MINIDOCK_BIN/run" --rm --network none ./library/hello.tar /bin/true
	refute_output --partial "unable to find image"
	run -0 "$MINIDOCK_BIN/image" ls
	assert_line --regexp "^docker.io_library_hello_1 +docker.io/library/hello:1 +sha256:"
	assert_line --regexp "^docker.io_library_debian_12 +docker.io/library/debian:12 +sha256:"
	assert_line --regexp "^docker.io_library_alpine +docker.io/library/alpine:latest +sha256:"
	# Held now: no request at all.
	MINIDOCK_REGISTRY_MIRROR=localhost:1 run -0 "$MINIDOCK_BIN/run" --rm --network none debian:12 /bin/true
	refute_output --partial "pulling"
	# Neither held nor in the registry.
	run -125 "$MINIDOCK_BIN/run" --rm --network none nosuch:1 /bin/true
	assert_output --partial "no such image or tag"
	assert_output --partial "image nosuch:1: unknown; import it by giving its path"
	export MINIDOCK_REGISTRY_MIRROR=localhost:1
	run -125 "$PULL" -o "oci:$TEST_TMP/x" debian:13
	assert_output --regexp "img-pull: registry docker.io unreachable \(through the mirror localhost:1\)"
}

# ---- auth and TLS ----

@test "img-pull over TLS with basic auth: refused without credentials or the CA; --user, then ~/.docker/config.json" {
	start_registry tls
	skopeo copy --quiet --dest-tls-verify=false --dest-creds minidock:secret \
		"oci:$IMAGES/busybox-oci" "docker://$R/private:1" || fail "skopeo push"
	# Not a localhost exception for TLS: the certificate must be trusted.
	run -125 "$PULL" --user minidock:secret -o "oci:$TEST_TMP/o" "$R/private:1"
	assert_output --regexp "img-pull: registry $R unreachable: .*(certificate|SSL)"
	run -125 "$PULL" --ca-cert "$TEST_TMP/ca.crt" -o "oci:$TEST_TMP/o" "$R/private:1"
	assert_output --partial "unauthorized: give credentials with --user"
	run -125 "$PULL" --ca-cert "$TEST_TMP/ca.crt" --user minidock:wrong -o "oci:$TEST_TMP/o" "$R/private:1"
	assert_output --partial "unauthorized"
	run -0 "$PULL" --verbose --ca-cert "$TEST_TMP/ca.crt" --user minidock:secret \
		-o "oci:$TEST_TMP/o" "$R/private:1"
	assert_output --partial "GET https://$R/v2/private/manifests/1 -> HTTP 200"
	assert_output --partial "HTTP basic auth as minidock"
	mkdir -p "$DOCKER_CONFIG"
	printf '{"auths":{"%s":{"auth":"%s"}}}' "$R" "$(printf minidock:secret | base64)" \
		> "$DOCKER_CONFIG/config.json"
	MINIDOCK_CA_CERT=$TEST_TMP/ca.crt run -0 "$PULL" --verbose -o "oci:$TEST_TMP/o2" "$R/private:1"
	assert_output --partial "credentials for $R from $DOCKER_CONFIG/config.json"
	# And img-push with the same credentials, read back by skopeo.
	MINIDOCK_CA_CERT=$TEST_TMP/ca.crt run -0 "$PUSH" "$TEST_TMP/o2" "$R/pushed:2"
	run -0 skopeo inspect --tls-verify=false --creds minidock:secret "docker://$R/pushed:2"
	assert_output --partial '"Architecture": "amd64"'
}

# ---- a hostile registry: each lie its error, exit 125, the store as before ----

@test "hostile registry: wrong digest, truncated, endless blob, manifest bomb, not JSON, redirect loop, 401 without realm" {
	start_fake
	local F=$FAKE
	mkdir -p "$MINIDOCK_LIB_DIR"
	run -125 "$PULL" "$F/wrongdigest"
	assert_output --regexp "img-pull: layer 1/1: blob sha256:[0-9a-f]{64}: digest mismatch: the content is sha256:"
	assert_store_has_no "localhost_${F#*:}_wrongdigest"
	run -125 "$PULL" "$F/truncated"
	assert_output --partial "layer 1/1"
	assert_output --partial "truncated, 100 bytes received, 4 tries"
	run -125 "$PULL" "$F/endless"
	assert_output --partial "more bytes than the 340 the manifest says: refused"
	run -125 "$PULL" "$F/bomb"
	assert_output "img-pull: manifest latest: larger than 4194304 bytes: refused"
	run -125 "$PULL" "$F/notjson"
	assert_output --partial "img-pull: manifest sha256:"
	run -125 "$PULL" "$F/redirect"
	assert_output --partial "redirects"
	run -125 "$PULL" "$F/norealm"
	assert_output --partial "asks for a bearer token without a realm"
	local n
	for n in wrongdigest truncated endless bomb notjson redirect norealm; do
		assert_store_has_no "localhost_${F#*:}_$n"
	done
}

@test "img-pull: layers fetched three at once, one line each: plain off a terminal, redrawn in place on one" {
	start_fake
	local F=$FAKE
	# The fake registry holds each blob until three are asked at once.
	run -0 "$PULL" -o "oci:$TEST_TMP/o" "$F/parallel"
	assert_equal "$(curl -s "http://$F/inflight")" 3
	for i in 1 2 3; do
		assert_line --regexp "^img-pull: layer $i/3 [0-9a-f]{12}: pull complete, 0.0 MB, sha256 verified$"
	done
	assert_line "$F/parallel:latest: pulled $(grep -o 'sha256:[0-9a-f]*' "$TEST_TMP/o/index.json" | head -1)"
	run -0 "$PULL" -o "oci:$TEST_TMP/o" "$F/parallel"
	assert_line --regexp "^img-pull: layer 3/3 [0-9a-f]{12}: already exists$"
	# On a terminal (script(1) gives it one): a line a layer, each
	# redrawn in place (the cursor moved up to it: ESC [ N A).
	run -0 script -qec "$PULL -o oci:$TEST_TMP/t $F/parallel" /dev/null
	assert_output --partial $'\e[3A\r\e[Kimg-pull: layer 1/3'
	assert_output --partial ": pull complete"
	# config, three layers, manifest
	assert_equal "$(ls "$TEST_TMP/t/blobs/sha256" | wc -l)" 5
}

@test "img-pull: a blob cut off mid-way is resumed from where it stopped (Range), and verified whole" {
	start_fake
	local F=$FAKE
	run -0 "$PULL" --verbose -o "oci:$TEST_TMP/o" "$F/cutonce"
	assert_output --regexp "blob sha256:[0-9a-f]{64}: network error, again from byte 100 \(Range\)"
	assert_line --regexp "^img-pull: GET http://$F/v2/cutonce/blobs/sha256:[0-9a-f]{64} -> HTTP 206$"
	assert_line --regexp "^$F/cutonce:latest: pulled sha256:[0-9a-f]{64}$"
	assert_equal "$(curl -s "http://$F/ranges")" "bytes=100-"
	local layer
	layer=$(jq -r '.layers[0].digest' "$TEST_TMP/o/blobs/sha256/$(jq -r '.manifests[0].digest' "$TEST_TMP/o/index.json" | cut -d: -f2)")
	assert_equal "sha256:$(sha256sum "$TEST_TMP/o/blobs/sha256/${layer#sha256:}" | cut -c1-64)" "$layer"
}

@test "img-pull: the bearer-token flow (401, GET the realm with the credentials, the token sent back)" {
	start_fake bearer
	local F=$FAKE
	run -125 "$PULL" -o "oci:$TEST_TMP/o" "$F/ok"
	assert_output --partial "unauthorized: the token server http://127.0.0.1:${F#*:}/token said HTTP 401, who are you? (UNAUTHORIZED)"
	run -0 "$PULL" --verbose --user u:p -o "oci:$TEST_TMP/o" "$F/ok"
	assert_output --partial "bearer token: realm http://127.0.0.1:${F#*:}/token, service fake, scope repository:ok:pull"
	assert_output --partial "GET http://$F/v2/ok/manifests/latest -> HTTP 200"
	assert [ -f "$TEST_TMP/o/index.json" ]
}

@test "docker-registry in token mode: anonymous pull, push with credentials, a wrong password refused; skopeo agrees" {
	start_registry token
	# Anonymous: a token for pull only; pushing is refused.
	run -125 "$PUSH" "$IMAGES/busybox-oci" "$R/team/app:1"
	assert_output --partial "unauthorized"
	run -125 "$PUSH" --user minidock:wrong "$IMAGES/busybox-oci" "$R/team/app:1"
	assert_output --partial "unauthorized: the token server $REALM said HTTP 401, wrong user name or password (UNAUTHORIZED)"
	run -0 "$PUSH" --verbose --user minidock:secret "$IMAGES/busybox-oci" "$R/team/app:1"
	assert_output --partial "bearer token: realm $REALM, service minidock-registry, scope repository:team/app:pull,push"
	assert_output --partial "PUT http://$R/v2/team/app/manifests/1 -> HTTP 201"
	run -0 skopeo inspect --tls-verify=false --creds minidock:secret "docker://$R/team/app:1"
	assert_output --partial "minidock busybox"
	# Pull: anonymous, then with credentials; a wrong password is refused.
	run -0 "$PULL" --verbose -o "oci:$TEST_TMP/anon" "$R/team/app:1"
	assert_output --partial "bearer token: realm $REALM, service minidock-registry, scope repository:team/app:pull"
	assert_output --partial "GET http://$R/v2/team/app/manifests/1 -> HTTP 200"
	run -0 "$PULL" --user minidock:secret -o "oci:$TEST_TMP/auth" "$R/team/app:1"
	run -125 "$PULL" --user minidock:nope -o "oci:$TEST_TMP/bad" "$R/team/app:1"
	assert_output "img-pull: unauthorized: the token server $REALM said HTTP 401, wrong user name or password (UNAUTHORIZED)"
	[ ! -e "$TEST_TMP/bad" ] || fail "a refused pull left $TEST_TMP/bad"
	run -0 "$MINIDOCK_BIN/img-unpack" "$TEST_TMP/anon" "$TEST_TMP/t1"
	run -0 "$MINIDOCK_BIN/img-unpack" "$IMAGES/busybox-oci" "$TEST_TMP/t2"
	diff -r "$TEST_TMP/t1" "$TEST_TMP/t2" || fail "what came back differs"
	grep -q '^minidock .*"pull", "push"' "$TEST_TMP/tport.log" ||
		fail "no push token was given: $(cat "$TEST_TMP/tport.log")"
}

@test "img-pull: bad input and an unreachable registry: a clear error, exit 125" {
	run -125 "$PULL"
	assert_output --partial "expected REF"
	run -125 "$PULL" 'bad ref!'
	assert_output --partial "not an image reference"
	run -125 "$PULL" --platform linux "$R/x"
	assert_output --partial "expected OS/ARCH"
	run -125 "$PULL" "localhost:$(free_port)/nothing"
	assert_output --regexp "img-pull: registry localhost:[0-9]+ unreachable"
	start_registry
	run -125 "$PULL" "$R/nosuch:tag"
	assert_output "img-pull: $R/nosuch:tag: no such image or tag (HTTP 404, manifest unknown (MANIFEST_UNKNOWN))"
}

# ---- img-push ----

@test "img-push: from an OCI layout, a skopeo docker-archive and the store; HEAD skips what the registry has; skopeo reads it back" {
	start_registry
	run -0 "$PUSH" --verbose "$IMAGES/busybox-oci" "$R/one:1"
	assert_output --partial "HEAD http://$R/v2/one/blobs/sha256:"
	assert_output --partial "POST http://$R/v2/one/blobs/uploads/ -> HTTP 202"
	assert_output --partial "PUT http://$R/v2/one/manifests/1 -> HTTP 201"
	run -0 skopeo inspect --tls-verify=false "docker://$R/one:1"
	assert_output --partial "minidock busybox"
	# The same layers again, under another name in the same repository.
	run -0 "$PUSH" --verbose "$IMAGES/busybox-oci" "$R/one:2"
	assert_output --partial "the registry has it already, not sent"
	refute_output --partial "POST"
	# A docker-archive has no registry manifest: one is written.
	skopeo copy --quiet "oci:$IMAGES/busybox-oci" "docker-archive:$TEST_TMP/da.tar:x:latest"
	run -0 "$PUSH" --verbose "$TEST_TMP/da.tar" "$R/fromarchive"
	assert_output --partial "an OCI one written"
	skopeo copy --quiet --src-tls-verify=false "docker://$R/fromarchive" "oci:$TEST_TMP/back:t"
	run -0 "$MINIDOCK_BIN/img-unpack" "$TEST_TMP/back" "$TEST_TMP/t1"
	run -0 "$MINIDOCK_BIN/img-unpack" "$IMAGES/busybox-oci" "$TEST_TMP/t2"
	diff -r "$TEST_TMP/t1" "$TEST_TMP/t2" || fail "what came back differs"
	# From the store: what img-pull stored, under a new name.
	run -0 "$PULL" "$R/one:1"
	run -0 "$PUSH" "$R/one:1" "$R/two:latest"
	run -0 skopeo inspect --tls-verify=false "docker://$R/two"
	assert_output --partial "\"Name\": \"$R/two\""
	run -125 "$PUSH" nosuchimage "$R/x"
	assert_output --partial "nosuchimage: no such image"
}

@test "img-push --chunk-size: PATCH with Content-Range, then PUT; img-pull -o oci-archive:FILE; skopeo reads both" {
	start_registry
	run -0 "$PUSH" --verbose --chunk-size 256K "$IMAGES/busybox-oci" "$R/chunked:1"
	assert_output --regexp "PATCH http://$R/v2/chunked/blobs/uploads/[^ ]* -> HTTP 202"
	[ "$(grep -c 'PATCH .* -> HTTP 202' <<<"$output")" -ge 3 ] || fail "not in chunks: $output"
	assert_output --partial "bytes sent, in chunks (PATCH)"
	assert_output --regexp "PUT http://$R/v2/chunked/blobs/uploads/[^ ]*digest=sha256:[0-9a-f]{64} -> HTTP 201"
	run -0 skopeo inspect --tls-verify=false "docker://$R/chunked:1"
	assert_output --partial "minidock busybox"
	# Back as an oci-archive: skopeo and img-unpack read it; no layout is left beside it.
	run -0 "$PULL" -o "oci-archive:$TEST_TMP/bb.tar" "$R/chunked:1"
	run -0 skopeo inspect "oci-archive:$TEST_TMP/bb.tar:1"
	assert_output --partial '"Architecture": "amd64"'
	assert_equal "$(ls "$TEST_TMP")" "$(ls "$TEST_TMP" | grep -v layout-)"
	run -0 "$MINIDOCK_BIN/img-unpack" "$TEST_TMP/bb.tar" "$TEST_TMP/t1"
	run -0 "$MINIDOCK_BIN/img-unpack" "$IMAGES/busybox-oci" "$TEST_TMP/t2"
	diff -r "$TEST_TMP/t1" "$TEST_TMP/t2" || fail "what came back differs"
	run -125 "$PULL" -o "tar:$TEST_TMP/x" "$R/chunked:1"
	assert_output "img-pull: -o tar:$TEST_TMP/x: expected oci:DIR or oci-archive:FILE"
	run -125 "$PUSH" --chunk-size 12Q "$IMAGES/busybox-oci" "$R/chunked:2"
	assert_output --partial "--chunk-size 12Q: not a size"
	# A failed pull to an archive leaves neither the file nor its layout.
	run -125 "$PULL" -o "oci-archive:$TEST_TMP/no.tar" "$R/chunked:nosuch"
	[ ! -e "$TEST_TMP/no.tar" ] || fail "no.tar written"
	! ls "$TEST_TMP" | grep -q layout- || fail "a layout was left: $(ls "$TEST_TMP")"
}

# ---- image: the images minidock holds ----

@test "image ls, inspect, tag, rm (refused while a container uses it), prune" {
	require_root
	start_registry
	put "$IMAGES/busybox-oci" busybox:latest
	run -0 "$PULL" "$R/busybox"
	local N=localhost_${PORT}_busybox I=$MINIDOCK_BIN/image
	run -0 "$I" ls
	assert_line --regexp "^$N +$R/busybox:latest +sha256:[0-9a-f]{12} +[0-9.]+M +2000-01-01T00:00:00$"
	run -0 "$I" inspect --json "$R/busybox"
	run -0 python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["config"]["Cmd"], len(d["layers"]), d["manifest"]["schemaVersion"])' <<< "$output"
	assert_output "['/bin/sh'] 1 2"
	run -0 "$I" tag "$R/busybox" "$R/copy"
	run -0 "$I" ls -q
	assert_line "localhost_${PORT}_copy"
	# img-push finds the new name in the store.
	run -0 "$PUSH" "$R/copy" "$R/copy:latest"
	# A container made from it: rm refused, then -f.
	run -0 "$MINIDOCK_BIN/run" --network none --name ic$$ "$R/copy" /bin/true
	run -125 "$I" rm "$R/copy"
	assert_output "image: rm $R/copy: container ic$$ uses it (container rm ic$$ first, or image rm -f)"
	run -0 "$I" rm -f "$R/copy"
	"$MINIDOCK_BIN/container" rm ic$$ >/dev/null
	# The layers are shared with busybox: prune keeps them.
	run -0 "$I" prune
	refute_output --partial "deleted layer"
	run -0 "$I" rm "$N"
	run -0 "$I" prune
	assert_output --partial "deleted layer sha256:"
	assert_output --partial "deleted blob sha256:"
	assert_equal "$(ls -A "$MINIDOCK_LIB_DIR/layers/sha256" | grep -v '^\.' | wc -l)" 0
	run -0 "$I" ls -q
	assert_output ""
	run -125 "$I" inspect nosuch
	assert_output "image: nosuch: no such image (see: image ls)"
}
