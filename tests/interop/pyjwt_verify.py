#!/usr/bin/env python3
"""A third party verifies our access tokens with PyJWT (EdDSA via `cryptography`)
using only the published key set, /.well-known/jwks.json.

    python3 tests/interop/pyjwt_verify.py [path/to/fengqiao-server]

Starts `fengqiao-server serve --data DIR --listen 127.0.0.1:PORT --demo` on a
fresh data dir, logs in as a demo user, then checks that:
  1. the token verifies with the JWKS key named by its `kid`, pinned to EdDSA,
     issuer `fengqiao` and audience `fengqiao-api`, and its `sub` is the user;
  2. a token with edited claims, a wrong audience or issuer expected, an `alg:
     none` token, and an HS256 token keyed with the public key are all rejected.
Exits non-zero on any failure.
"""
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import jwt  # PyJWT
from jwt import PyJWKSet



from live_server import free_port, wait_healthy  # noqa: E402


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def get_json(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.load(r)


def login(url, data_dir):
    creds = json.load(open(os.path.join(data_dir, "demo-credentials.json")))
    c = next(c for c in creds if c["username"].startswith("secretary."))
    body = json.dumps({"username": c["username"], "password": c["password"]}).encode()
    req = urllib.request.Request(url + "/v1/auth/login", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def must_fail(what, fn):
    try:
        fn()
    except jwt.PyJWTError as e:
        print(f"ok: {what} rejected ({type(e).__name__})")
        return
    raise SystemExit(f"FAIL: {what} was accepted by PyJWT")


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "target/debug/fengqiao-server"
    data = tempfile.mkdtemp(prefix="fq-pyjwt-")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [binary, "serve", "--data", data, "--listen", f"127.0.0.1:{port}", "--demo"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_healthy(url, proc)
        tokens = login(url, data)
        token = tokens["access_token"]
        jwks = get_json(url + "/.well-known/jwks.json")
        keyset = PyJWKSet.from_dict(jwks)
        kid = jwt.get_unverified_header(token)["kid"]
        key = keyset[kid]
        assert key.algorithm_name == "EdDSA", key.algorithm_name

        claims = jwt.decode(
            token,
            key=key.key,
            algorithms=["EdDSA"],
            audience="fengqiao-api",
            issuer="fengqiao",
            options={"require": ["exp", "nbf", "iat", "iss", "aud", "sub"]},
        )
        assert claims["sub"] == tokens["user"]["id"], claims
        print(f"ok: token verified with JWKS key {kid}; sub={claims['sub']}")

        def decode(t, aud="fengqiao-api", iss="fengqiao"):
            return jwt.decode(t, key=key.key, algorithms=["EdDSA"], audience=aud, issuer=iss)

        head, payload, sig = token.split(".")
        edited = json.loads(b64url_decode(payload))
        edited["sub"] = "00000000-0000-7000-8000-000000000000"
        must_fail("claims edited after signing", lambda: decode(f"{head}.{b64url(json.dumps(edited).encode())}.{sig}"))
        flipped = sig[:-2] + ("AA" if sig[-2:] != "AA" else "BA")
        must_fail("a changed signature", lambda: decode(f"{head}.{payload}.{flipped}"))
        must_fail("another audience expected", lambda: decode(token, aud="someone-else"))
        must_fail("another issuer expected", lambda: decode(token, iss="someone-else"))
        none_head = b64url(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode())
        must_fail("alg none", lambda: decode(f"{none_head}.{payload}."))
        hs_head = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
        must_fail("HS256 with the public key", lambda: decode(f"{hs_head}.{payload}.{sig}"))
        print("pyjwt interop: all checks passed")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()
