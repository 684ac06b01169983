#!/usr/bin/env python3
# fake-registry.py PORTFILE - a hostile registry for tests/img-pull.bats, on
# 127.0.0.1 only.  It answers GET /v2/ and, for each repository, one way of
# lying (the repository's name says which):
#   wrongdigest   a blob whose bytes are not those of its digest
#   truncated     a blob shorter than the manifest says (the connection closes)
#   endless       a blob that never ends
#   bomb          a manifest of 5 MB
#   notjson       a manifest that is not JSON
#   redirect      a blob redirected to itself, forever
#   norealm       401 with "Bearer" and no realm
#   cutonce       no lie in the end: the first GET of the blob closes the
#                 connection after 100 bytes; a GET with "Range: bytes=N-"
#                 gets the rest (206); GET /ranges says the Range headers seen
#   parallel      no lie: three layers, each blob held until three are
#                 asked at once (2 s at most); GET /inflight says the most
#                 blobs that were being sent at the same time
# With "bearer" after PORTFILE: the bearer-token flow of Docker Hub instead,
# every request needing "Authorization: Bearer good-token", which GET /token
# gives to the basic credentials u:p only.
# Writes the port it listens on to PORTFILE, then serves until killed.
import hashlib
import http.server
import json
import sys
import threading

LAYER = b"not really a layer, but some bytes" * 10
CONFIG = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


THREE = [LAYER + b"%d" % i for i in range(3)]
BLOBS = {sha(b): b for b in THREE}
inflight = {"now": 0, "most": 0}
ranges = []
cond = threading.Condition()


def held(body):
    """A blob of "parallel": sent once three are asked at once (or 2 s)."""
    with cond:
        inflight["now"] += 1
        inflight["most"] = max(inflight["most"], inflight["now"])
        cond.notify_all()
        cond.wait_for(lambda: inflight["now"] >= 3, timeout=2)
    try:
        return body
    finally:
        with cond:
            inflight["now"] -= 1


def manifest(repo):
    layers = THREE if repo == "parallel" else [LAYER]
    return json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": sha(CONFIG), "size": len(CONFIG)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": sha(b), "size": len(b)} for b in layers],
    }).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, code, body=b"", ctype="application/json", extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def send_cut(self):
        """The layer's length announced, its first 100 bytes sent, then the
        connection closed: a transfer cut off mid-way."""
        self.send_response(200)
        self.send_header("Content-Length", str(len(LAYER)))
        self.end_headers()
        self.wfile.write(LAYER[:100])
        self.close_connection = True

    def do_GET(self):
        if BEARER and self.path.startswith("/token?"):
            if self.headers.get("Authorization") != "Basic dTpw" or "scope=repository" not in self.path:
                return self.send(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"who are you?"}]}')
            return self.send(200, b'{"token":"good-token"}')
        if BEARER and self.headers.get("Authorization") != "Bearer good-token":
            port = self.server.server_address[1]
            return self.send(401, b"{}", extra=[("WWW-Authenticate",
                'Bearer realm="http://127.0.0.1:%d/token",service="fake",scope="repository:ok:pull"' % port)])
        parts = self.path.split("/")
        if self.path == "/v2/":
            return self.send(200, b"{}")
        if self.path == "/ranges":
            return self.send(200, " ".join(ranges).encode(), "text/plain")
        if self.path == "/inflight":
            return self.send(200, b"%d" % inflight["most"], "text/plain")
        repo, kind = parts[2], parts[3]
        if repo == "norealm":
            return self.send(401, b"{}", extra=[("WWW-Authenticate", 'Bearer service="x"')])
        if kind == "manifests":
            if repo == "bomb":
                return self.send(200, b" " * (5 << 20) + b"{}",
                                 "application/vnd.oci.image.manifest.v1+json")
            if repo == "notjson":
                return self.send(200, b"<html>hello</html>",
                                 "application/vnd.oci.image.manifest.v1+json")
            return self.send(200, manifest(repo), "application/vnd.oci.image.manifest.v1+json")
        digest = parts[4]
        if digest == sha(CONFIG):
            return self.send(200, CONFIG, "application/octet-stream")
        if repo == "parallel" and digest in BLOBS:
            return self.send(200, held(BLOBS[digest]), "application/octet-stream")
        if repo == "wrongdigest":
            return self.send(200, LAYER.upper(), "application/octet-stream")
        if repo == "truncated":
            return self.send_cut()
        if repo == "cutonce" and self.command == "GET":
            asked = self.headers.get("Range")
            if not asked:
                return self.send_cut()
            ranges.append(asked)
            start = int(asked.split("=")[1].rstrip("-"))
            return self.send(206, LAYER[start:], "application/octet-stream",
                             extra=[("Content-Range", "bytes %d-%d/%d" % (start, len(LAYER) - 1, len(LAYER)))])
        if repo == "endless":
            self.send_response(200)
            self.end_headers()      # no length: until the connection closes
            try:
                while True:
                    self.wfile.write(b"x" * 65536)
            except OSError:
                return
        if repo == "redirect":
            return self.send(307, b"", extra=[("Location", self.path)])
        return self.send(200, LAYER, "application/octet-stream")

    do_HEAD = do_GET


BEARER = len(sys.argv) > 2 and sys.argv[2] == "bearer"
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1], "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
