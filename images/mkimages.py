#!/usr/bin/env python3
"""mkimages.py BUILD - the teaching images, in every format img-unpack reads.

Built offline from BUILD/src/busybox (made by mkrootfs-busybox.sh), the same
bytes on every run: sorted tar members, owners and dates from the tree,
gzip with no name and no time.  See README.md for every file made here.

  busybox   one layer: the busybox root filesystem, with a config
            (Env PATH, Cmd ["/bin/sh"], WorkingDir /www, ExposedPorts 80/tcp)
  layers    three layers: 1 = busybox, 2 adds files (/opt/app...),
            3 deletes (whiteouts) and empties a directory (opaque whiteout)

An image is JSON + tarballs, each named by its sha256 (OCI image spec):
index.json -> manifest -> config (rootfs.diff_ids) + layers.
"""
import gzip
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile

EPOCH = 946684800  # 2000-01-01 00:00:00 UTC, as mkrootfs-busybox.sh
ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm",
        "i686": "386", "ppc64le": "ppc64le", "s390x": "s390x",
        "riscv64": "riscv64"}.get(os.uname().machine, "amd64")
ROOT = os.geteuid() == 0

MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_TAR = "application/vnd.oci.image.layer.v1.tar"
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def jdump(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


# ---- layers: tar streams ------------------------------------------------

def tar_of_tree(top, with_root=False):
    """The tree TOP as an uncompressed tar, names relative ("bin/sh")."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        names = []
        for d, dirs, files in os.walk(top):
            dirs.sort()
            for n in sorted(dirs + files):
                if d == top and n == ".done":   # the Makefile's stamp
                    continue
                names.append(os.path.relpath(os.path.join(d, n), top))
        names.sort()
        if with_root:
            names.insert(0, ".")
        for n in names:
            ti = tar.gettarinfo(os.path.join(top, n), arcname="./" if n == "." else n)
            ti.uname = ti.gname = ""
            ti.mtime = int(ti.mtime)
            if ti.isreg():
                with open(os.path.join(top, n), "rb") as f:
                    tar.addfile(ti, f)
            else:
                tar.addfile(ti)
    return buf.getvalue()


def member(name, kind="file", data=b"", mode=0o644, uid=0, gid=0,
           target="", xattrs=None, dev=(0, 0)):
    """One hand-made tar entry."""
    ti = tarfile.TarInfo(name)
    ti.mtime = EPOCH
    ti.mode = mode
    ti.uid, ti.gid = uid, gid
    ti.uname = ti.gname = ""
    ti.type = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE,
               "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE,
               "chr": tarfile.CHRTYPE}[kind]
    ti.linkname = target
    ti.devmajor, ti.devminor = dev
    if xattrs:
        ti.pax_headers = {"SCHILY.xattr." + k: v for k, v in xattrs.items()}
    ti.size = len(data) if kind == "file" else 0
    return ti, data


def tar_of_members(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for ti, data in members:
            tar.addfile(ti, io.BytesIO(data) if ti.isreg() else None)
    return buf.getvalue()


def gz(data):
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=6) as f:
        f.write(data)
    return out.getvalue()


def zst(data):
    return subprocess.run(["zstd", "-q", "-3", "-c", "--no-check"], input=data,
                          stdout=subprocess.PIPE, check=True).stdout


HELLO = b"#!/bin/sh\necho hello from layer 2\n"
# As in a layer Docker writes, the directories holding a change are in it too.
LAYER2 = [
    member("dev", "dir", mode=0o755),
    member("etc", "dir", mode=0o755),
    member("etc/motd", data=b"Layer 2 was here\n"),
    member("opt", "dir", mode=0o755),
    member("opt/app", "dir", mode=0o755),
    member("opt/app/hello.sh", data=HELLO, mode=0o755),
    member("opt/app/data.txt", data=b"some data\n", mode=0o600, uid=33, gid=33,
           xattrs={"user.minidock": "layer2"}),
    member("opt/app/current", "symlink", target="hello.sh", mode=0o777),
    member("opt/app/hello-link", "hardlink", target="opt/app/hello.sh"),
    member("opt/app/old", "dir", mode=0o755),
    member("opt/app/old/a.txt", data=b"a\n"),
    member("opt/app/old/b.txt", data=b"b\n"),
    member("var", "dir", mode=0o755),
    member("var/log", "dir", mode=0o755),
    member("var/log/app.log", data=b"started\n", mode=0o640, uid=33, gid=33),
] + ([member("dev/minidock-null", "chr", mode=0o666, dev=(1, 3))] if ROOT else [])

LAYER3 = [
    member("bin", "dir", mode=0o755),
    member("bin/.wh.vi"),                     # a busybox applet of layer 1
    member(".wh.srv"),                        # a directory of layer 1
    member("etc", "dir", mode=0o755),
    member("etc/.wh.motd"),                   # a file of layer 2
    member("etc/layer3", data=b"3\n"),
    member("opt", "dir", mode=0o755),
    member("opt/app", "dir", mode=0o755),
    member("opt/app/old", "dir", mode=0o755),
    member("opt/app/old/.wh..wh..opq"),       # hides a.txt and b.txt
    member("opt/app/old/new.txt", data=b"new\n"),
]


def expected_layers_tree(busybox, out):
    """The tree the three layers make, built with plain file operations."""
    if os.path.exists(out):
        shutil.rmtree(out)
    subprocess.run(["cp", "-a", busybox, out], check=True)
    if os.path.exists(os.path.join(out, ".done")):
        os.unlink(os.path.join(out, ".done"))
    for ti, data in LAYER2 + LAYER3:
        p = os.path.join(out, ti.name)
        base = os.path.basename(ti.name)
        if base == ".wh..wh..opq":
            d = os.path.dirname(p)
            for n in os.listdir(d):
                if os.path.join(os.path.dirname(ti.name), n) not in \
                        [t.name for t, _ in LAYER3]:
                    q = os.path.join(d, n)
                    shutil.rmtree(q) if os.path.isdir(q) and not os.path.islink(q) else os.unlink(q)
            continue
        if base.startswith(".wh."):
            q = os.path.join(os.path.dirname(p), base[4:])
            shutil.rmtree(q) if os.path.isdir(q) and not os.path.islink(q) else os.unlink(q)
            continue
        if ti.isdir():
            os.makedirs(p, exist_ok=True)
        elif ti.issym():
            os.symlink(ti.linkname, p)
        elif ti.islnk():
            os.link(os.path.join(out, ti.linkname), p)
            continue
        elif ti.ischr():
            os.mknod(p, stat.S_IFCHR | ti.mode, os.makedev(ti.devmajor, ti.devminor))
        else:
            with open(p, "wb") as f:
                f.write(data)
        os.chown(p, ti.uid, ti.gid, follow_symlinks=False)
        if not ti.issym():
            os.chmod(p, ti.mode)
            if ti.pax_headers:
                for k, v in ti.pax_headers.items():
                    os.setxattr(p, k[len("SCHILY.xattr."):], v.encode())
    # Dates last (creating entries changed the directories' mtime).
    for d, dirs, files in os.walk(out):
        for n in dirs + files:
            os.utime(os.path.join(d, n), (EPOCH, EPOCH), follow_symlinks=False)
    os.utime(out, (EPOCH, EPOCH))


# ---- images: the JSON around the layers ----------------------------------

class Image:
    """NAME:latest made of LAYERS (uncompressed tars) with runtime CONFIG."""

    def __init__(self, name, layers, runtime):
        self.tag = name + ":latest"
        self.layers = layers
        self.diff_ids = ["sha256:" + sha256(t) for t in layers]
        self.config = jdump({
            "architecture": ARCH, "os": "linux",
            "created": "2000-01-01T00:00:00Z",
            "config": runtime,
            "rootfs": {"type": "layers", "diff_ids": self.diff_ids},
            "history": [{"created": "2000-01-01T00:00:00Z",
                         "created_by": "images/mkimages.py layer %d" % (i + 1)}
                        for i in range(len(layers))],
        })

    def blobs(self, compress):
        """The layer blobs as stored, and their descriptors."""
        blobs, descs = {}, []
        for i, t in enumerate(self.layers):
            how = compress[i] if i < len(compress) else compress[-1]
            data = {"gzip": gz, "zstd": zst, "none": lambda x: x}[how](t)
            mt = MT_TAR + {"gzip": "+gzip", "zstd": "+zstd", "none": ""}[how]
            blobs[sha256(data)] = data
            descs.append({"mediaType": mt, "digest": "sha256:" + sha256(data),
                          "size": len(data)})
        return blobs, descs

    def manifest(self, compress):
        blobs, descs = self.blobs(compress)
        blobs[sha256(self.config)] = self.config
        m = jdump({"schemaVersion": 2, "mediaType": MT_MANIFEST,
                   "config": {"mediaType": MT_CONFIG,
                              "digest": "sha256:" + sha256(self.config),
                              "size": len(self.config)},
                   "layers": descs})
        blobs[sha256(m)] = m
        return blobs, {"mediaType": MT_MANIFEST, "digest": "sha256:" + sha256(m),
                       "size": len(m)}


def write_tar(path, files):
    """FILES: (name, bytes or None for a directory), in that order."""
    with tarfile.open(path + ".tmp", "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files:
            ti = tarfile.TarInfo(name)
            ti.mtime = EPOCH
            if data is None:
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(ti)
            else:
                ti.size, ti.mode = len(data), 0o644
                tar.addfile(ti, io.BytesIO(data))
    os.rename(path + ".tmp", path)


def docker_legacy(images):
    """docker save before Docker 25: <id>/layer.tar, <config>.json, manifest.json."""
    files, manifest, repos, seen = [], [], {}, set()
    for img in images:
        parent, layer_paths = "", []
        for t, diff in zip(img.layers, img.diff_ids):
            lid = sha256((parent + diff).encode())
            if lid not in seen:
                seen.add(lid)
                files += [(lid + "/", None), (lid + "/VERSION", b"1.0"),
                          (lid + "/json", jdump({"id": lid, "parent": parent} if parent
                                                else {"id": lid})),
                          (lid + "/layer.tar", t)]
            layer_paths.append(lid + "/layer.tar")
            parent = lid
        files.append((sha256(img.config) + ".json", img.config))
        manifest.append({"Config": sha256(img.config) + ".json",
                         "RepoTags": [img.tag], "Layers": layer_paths})
        name, tag = img.tag.split(":")
        repos.setdefault(name, {})[tag] = parent
    # docker save writes manifest.json last: img-unpack must spool a pipe.
    files += [("manifest.json", jdump(manifest)), ("repositories", jdump(repos))]
    return files


def oci_files(images, compress, nested=False, docker25=False):
    """An OCI layout (Docker 25's docker save also adds manifest.json)."""
    blobs, index, dmanifest = {}, [], []
    for img in images:
        b, desc = img.manifest(compress)
        blobs.update(b)
        if nested:
            # containerd's image store: index.json -> an image index ->
            # one manifest per platform (only this one's blobs are here).
            other = dict(desc, digest="sha256:" + "0" * 64,
                         platform={"architecture": "s390x" if ARCH != "s390x" else "ppc64le",
                                   "os": "linux"})
            ii = jdump({"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": [
                other, dict(desc, platform={"architecture": ARCH, "os": "linux"})]})
            blobs[sha256(ii)] = ii
            desc = {"mediaType": MT_INDEX, "digest": "sha256:" + sha256(ii), "size": len(ii)}
        ann = {"org.opencontainers.image.ref.name": img.tag}
        if docker25:
            ann = {"io.containerd.image.name": "docker.io/library/" + img.tag,
                   "org.opencontainers.image.ref.name": img.tag.split(":")[1]}
        index.append(dict(desc, annotations=ann))
        cfg = sha256(img.config)
        dmanifest.append({"Config": "blobs/sha256/" + cfg, "RepoTags": [img.tag],
                          "Layers": ["blobs/sha256/" + d["digest"][7:]
                                     for d in img.blobs(compress)[1]]})
    files = [("blobs/", None), ("blobs/sha256/", None)]
    files += [("blobs/sha256/" + h, blobs[h]) for h in sorted(blobs)]
    files.append(("index.json", jdump({"schemaVersion": 2, "mediaType": MT_INDEX,
                                       "manifests": index})))
    if docker25:
        files.append(("manifest.json", jdump(dmanifest)))
    files.append(("oci-layout", jdump({"imageLayoutVersion": "1.0.0"})))
    return files


def write_dir(path, files):
    if os.path.exists(path):
        shutil.rmtree(path)
    os.makedirs(path + ".tmp", exist_ok=True)
    for name, data in files:
        p = os.path.join(path + ".tmp", name)
        if data is None:
            os.makedirs(p, exist_ok=True)
        else:
            with open(p, "wb") as f:
                f.write(data)
    os.rename(path + ".tmp", path)


def write_bytes(path, data):
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.rename(path + ".tmp", path)


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    # A private copy made by mkrootfs-busybox.sh (see the Makefile): tests
    # may write into build/busybox/rootfs, the images must not change.
    busybox_tree = os.path.join(build, "src", "busybox")
    layers_tree = os.path.join(build, "src", "layers")

    layer1 = tar_of_tree(busybox_tree)
    busybox = Image("busybox", [layer1], {
        "Env": [PATH_ENV], "Cmd": ["/bin/sh"], "WorkingDir": "/www",
        "ExposedPorts": {"80/tcp": {}},
        "Labels": {"org.opencontainers.image.title": "minidock busybox"}})
    layers = Image("layers", [layer1, tar_of_members(LAYER2), tar_of_members(LAYER3)], {
        "Env": [PATH_ENV, "LAYERS=3"], "Cmd": ["/opt/app/hello.sh"],
        "WorkingDir": "/opt/app",
        "Labels": {"org.opencontainers.image.title": "minidock layers"}})
    expected_layers_tree(busybox_tree, layers_tree)

    for img, name, compress in ((busybox, "busybox", ["gzip"]),
                                (layers, "layers", ["gzip", "none", "zstd"])):
        write_tar(os.path.join(build, name + ".tar"), docker_legacy([img]))
        oci = oci_files([img], compress)
        write_dir(os.path.join(build, name + "-oci"), oci)
        write_tar(os.path.join(build, name + "-oci.tar"), oci)
        nested = name == "busybox"
        write_tar(os.path.join(build, name + "-docker25.tar"),
                  oci_files([img], ["gzip"] if nested else ["none"],
                            nested=nested, docker25=True))
        tree = busybox_tree if name == "busybox" else layers_tree
        write_bytes(os.path.join(build, name + "-rootfs.tar.gz"),
                    gz(tar_of_tree(tree, with_root=True)))
    # Two images in one archive, to choose from with --tag.
    write_tar(os.path.join(build, "two.tar"), docker_legacy([busybox, layers]))
    write_dir(os.path.join(build, "two-oci"), oci_files([busybox, layers], ["gzip"]))


if __name__ == "__main__":
    main()
