# minidock - a pedagogical mini-Docker.  One screen to read:
#   make            build every tool of cmd/ into bin/
#   make images     build the teaching images (images/build/)
#   make slides     render the course slides (slides/build/)
#   make tp-etudiant  the students' copy: no answers, slides rendered
#   make exercices  the TP's C exercises, tp/*/*.c, into build/tp/
#   make check      run every test suite, then again under ASan+UBSan
#   make demo       start a shell in a container
#   make deps       install what is missing (Debian/Ubuntu, as root)

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN      = -Wall -Wextra -Werror
CPPFLAGS += -D_GNU_SOURCE -Icommon
BUILD    ?= build
BIN      ?= bin

# Every cmd/NAME.c is a tool, bin/NAME.
TOOLS = $(patsubst cmd/%.c,%,$(wildcard cmd/*.c))

# The libraries each tool links with (common/README.md, "Libraries").
LIBS_ns-enter   = -lseccomp -lcap
LIBS_cg-limit   =
LIBS_img-unpack = -larchive -ljansson -lcrypto
LIBS_net-bridge = -lmnl -ljansson          # and libnftables, by dlopen(3): see common/nft.c
LIBS_run        = -ljansson
LIBS_container  = -ljansson
LIBS_img-build  = -larchive -ljansson -lcrypto -lz
LIBS_img-pull   = -lcurl -larchive -ljansson -lcrypto
LIBS_img-push   = -lcurl -larchive -ljansson -lcrypto
LIBS_image      = -ljansson
LIBS_compose    = -lyaml -ljansson
LIBS_volume     = -ljansson
LIBS_network    = -lmnl -ljansson

# The tools that start every container and then wait beside it are linked
# statically, where Debian ships the .a files (not for libmnl, libnftables):
# no ld.so mapping and relocating libraries at each start (about 0.5 ms a
# tool here), fewer private pages per waiting process.  -static-pie keeps
# the load address random.  AddressSanitizer cannot link statically, nor
# may a build that already asks for -static (make static).
STATIC_TOOLS = cg-limit ns-enter run container
LINK_STATIC  = $(if $(findstring -fsanitize,$(CFLAGS))$(findstring -static,$(LDFLAGS)),,-static-pie)

# Debian packages: to build, to test, to run the demo.
DEB_PACKAGES = gcc make clang pkg-config \
	libarchive-dev libjansson-dev libyaml-dev libssl-dev zlib1g-dev libzstd-dev libcurl4-openssl-dev \
	libmnl-dev libnftables-dev libseccomp-dev libcap-dev \
	bats bats-support bats-assert busybox-static \
	iproute2 nftables util-linux uidmap procps python3 zstd qemu-system-x86 xz-utils tmux \
	buildah podman umoci skopeo jq file docker-registry apache2-utils openssl curl

# The course slides only: rendered by Marp CLI (npm) in Chromium.
SLIDES_PACKAGES = chromium nodejs npm poppler-utils fonts-dejavu-core

SANITIZE = -fsanitize=address,undefined -fno-omit-frame-pointer

COMMON_OBJ = $(patsubst %.c,$(BUILD)/%.o,$(wildcard common/*.c))

all: $(TOOLS:%=$(BIN)/%)

$(BIN)/%: $(BUILD)/cmd/%.o $(BUILD)/libminidock.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) $(if $(filter $*,$(STATIC_TOOLS)),$(LINK_STATIC)) -o $@ $^ $(LIBS_$*)

$(BUILD)/libminidock.a: $(COMMON_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/%.o: %.c $(wildcard common/*.h)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

# The default seccomp filter, compiled to BPF once here rather than by
# libseccomp at every container start (see common/seccomp.c): a program
# built from common/seccomp.c writes it as a C header into $(BUILD).
$(BUILD)/gen/seccomp-bpf: $(BUILD)/common/gen/seccomp-bpf.o $(BUILD)/common/seccomp.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lseccomp

$(BUILD)/seccomp-default.h: $(BUILD)/gen/seccomp-bpf
	$< > $@.tmp && mv $@.tmp $@

$(BUILD)/common/seccomp-load.o: $(BUILD)/seccomp-default.h
$(BUILD)/common/seccomp-load.o: CPPFLAGS += -I$(BUILD)

# The same tools built with AddressSanitizer and UndefinedBehaviorSanitizer.
san:
	$(MAKE) BUILD=build-san BIN=bin-san CFLAGS="-O1 -g $(SANITIZE)"

# cg-limit, run and ns-enter linked statically, for the initramfs of the cgroup
# v2 VM test (tests/vm/).
static:
	$(MAKE) BUILD=build-static BIN=bin-static LDFLAGS=-static bin-static/cg-limit \
		bin-static/run bin-static/ns-enter

images: all
	$(MAKE) -C images

# The course slides, HTML and PDF in slides/build/ (see slides/README.md).
slides:
	$(MAKE) -C slides SLIDES_PACKAGES="$(SLIDES_PACKAGES)"

# The TP's C exercises ("À vous de coder", steps 2 to 4): each student's
# file tp/N-STEP/NAME.c, and its answer tp/corrige/code/NAME.c where the
# copy has the answers, each a program of its own in $(BUILD)/tp/.
EXERCICES = $(patsubst tp/%.c,$(BUILD)/tp/%,$(wildcard tp/*/*.c tp/corrige/code/*.c))
LIBS_veth = -lmnl

exercices: $(EXERCICES)

$(BUILD)/tp/%: tp/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -o $@ $< $(LIBS_$(notdir $*))

# The students' copy of the repository (tp/corrige/GUIDE-ENSEIGNANT.md):
# the committed tree less tp/corrige/ (export-ignore in .gitattributes),
# with the rendered slides.
TP_ETUDIANT ?= minidock-etudiant.tar.gz
tp-etudiant: slides
	@sh tp/corrige/copie-etudiant.sh $(TP_ETUDIANT) slides/build

# clang's fuzzer and sanitizer runtimes (tests/fuzz) are in libclang-rt-N-dev
# from clang 15 on (Debian 12 has clang 14 and the package too; Debian 13,
# clang 19), named after the compiler's own major version.
deps:
	@sh common/install-missing.sh $(DEB_PACKAGES)
	@v=$$(clang -dumpversion | cut -d. -f1); \
	if apt-cache show libclang-rt-$$v-dev >/dev/null 2>&1; then \
		sh common/install-missing.sh libclang-rt-$$v-dev; fi

# Every suite on the normal build, then on the sanitized one.
check: deps all images san slides static
	@status=0; \
	MINIDOCK_BIN=$(CURDIR)/bin bats --tap tests/ || status=1; \
	echo "# again under AddressSanitizer and UndefinedBehaviorSanitizer"; \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	MINIDOCK_SAN=1 MINIDOCK_BIN=$(CURDIR)/bin-san bats --tap tests/ || status=1; \
	exit $$status

demo: deps all images
	@if [ -t 0 ] && [ -t 1 ]; then \
		echo "A shell in a busybox container: try hostname, ps, ip addr, ls /; exit to leave."; \
		bin/run --rm -it --hostname minidock busybox sh; \
	else \
		sh images/demo.sh; \
	fi

clean:
	rm -rf build build-san bin bin-san build-static bin-static
	$(MAKE) -C images clean

.PHONY: all san static images slides exercices tp-etudiant deps check demo clean
.SECONDARY:
