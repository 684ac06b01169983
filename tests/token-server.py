#!/usr/bin/env python3
"""token-server.py - a small bearer-token server for the tests: the other half
of docker-registry's `auth: token` mode (distribution's docs/spec/auth/token.md
and jwt.md), as Docker Hub's auth.docker.io is for registry-1.docker.io.

    token-server.py PORTFILE KEY CERT ISSUER SERVICE

Listens on 127.0.0.1 (a free port, written to PORTFILE).  GET /token?service=S
&scope=repository:NAME:ACTIONS answers {"token": JWT}: a JSON Web Token signed
RS256 with KEY, its certificate CERT in the "x5c" header (the registry trusts
it: its rootcertbundle), giving:
  - with basic credentials minidock:secret: every action asked for;
  - anonymous: "pull" only (a public registry);
  - wrong credentials: HTTP 401, {"errors": [...]}.
Signing is done by `openssl dgst` (no Python crypto library needed)."""
import base64
import json
import os
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PORTFILE, KEY, CERT, ISSUER, SERVICE = sys.argv[1:6]
USERS = {"minidock": "secret"}


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def cert_der():
    pem = open(CERT).read()
    body = pem.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
    return "".join(body.split())     # already base64 (standard): x5c wants that


def sign(claims):
    header = {"typ": "JWT", "alg": "RS256", "x5c": [cert_der()]}
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", KEY],
                         input=signing_input.encode(), capture_output=True, check=True).stdout
    return signing_input + "." + b64url(sig)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        if url.path != "/token":
            return self.answer(404, {"errors": [{"code": "NOT_FOUND", "message": "no such page"}]})
        q = parse_qs(url.query)
        user = None
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            u, _, p = base64.b64decode(auth[6:]).decode(errors="replace").partition(":")
            if USERS.get(u) != p:
                return self.answer(401, {"errors": [{"code": "UNAUTHORIZED",
                                                     "message": "wrong user name or password"}]})
            user = u
        access = []
        for scope in q.get("scope", []):
            for one in scope.split(" "):
                kind, _, rest = one.partition(":")
                name, _, actions = rest.rpartition(":")
                if kind != "repository" or not name:
                    continue
                wanted = actions.split(",")
                granted = wanted if user else [a for a in wanted if a == "pull"]
                access.append({"type": "repository", "name": name, "actions": granted})
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": user or "", "aud": q.get("service", [SERVICE])[0],
                  "exp": now + 300, "nbf": now - 10, "iat": now,
                  "jti": b64url(os.urandom(12)), "access": access}
        with open(PORTFILE + ".log", "a") as log:
            log.write(f"{user or 'anonymous'} {json.dumps(access)}\n")
        self.answer(200, {"token": sign(claims), "expires_in": 300})


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
server.serve_forever()
