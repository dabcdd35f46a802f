#!/usr/bin/env python3
"""Property-based API testing with schemathesis (PyPI) against a live server,
driven by the server's own OpenAPI document (/openapi.json).

    python3 tests/interop/schemathesis_run.py [path/to/fengqiao-server] [--long]

Starts `fengqiao-server serve --data DIR --listen 127.0.0.1:PORT --demo` on a
fresh data dir (with a policy file that keeps access tokens valid for the run and
the sign-in limits out of the way), signs in as the demo county administrator (who
may call every endpoint) and runs schemathesis with the checks
`not_a_server_error` (no 5xx), `response_schema_conformance` (bodies match the
document), `status_code_conformance` (only documented statuses) and
`content_type_conformance`.

Short run (CI): a few examples per operation, a time budget of a few minutes.
Long run (`--long`, or FENGQIAO_LONG=1 via tests/run-all.sh): many more examples
and the stateful phase. Figures go in docs/RELIABILITY.md. Exits non-zero on any
failure.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

POLICY = """
[auth]
access_ttl_secs = 14400
login_per_account_per_minute = 0
login_per_address_per_minute = 0
"""

CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"


from live_server import free_port, wait_healthy  # noqa: E402


def login(url, data_dir, username):
    creds = json.load(open(os.path.join(data_dir, "demo-credentials.json")))
    c = next(c for c in creds if c["username"] == username)
    body = json.dumps({"username": c["username"], "password": c["password"]}).encode()
    req = urllib.request.Request(url + "/v1/auth/login", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)["access_token"]


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    long_run = "--long" in sys.argv or os.environ.get("FENGQIAO_LONG") == "1"
    binary = args[0] if args else "target/debug/fengqiao-server"
    data = tempfile.mkdtemp(prefix="fq-schemathesis-")
    with open(os.path.join(data, "policy.toml"), "w") as f:
        f.write(POLICY)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(os.path.join(data, "server.log"), "w")
    proc = subprocess.Popen(
        [binary, "serve", "--data", data, "--listen", f"127.0.0.1:{port}", "--demo"], stdout=log, stderr=log
    )
    try:
        wait_healthy(url, proc)
        token = login(url, data, "admin")
        if long_run:
            budget = ["--max-examples", "300", "--max-time", "3600"]
        else:
            budget = ["--max-examples", "8", "--max-time", "150", "--phases", "examples,coverage,fuzzing"]
        cmd = [
            sys.executable, "-m", "schemathesis.cli", "run", url + "/openapi.json",
            "--url", url,
            "-H", f"Authorization: Bearer {token}",
            "--checks", CHECKS,
            "--workers", "2",
            "--request-timeout", "60",
            "--seed", os.environ.get("SCHEMATHESIS_SEED", "20260601"),
            "--generation-database", "none",
            "--report", "junit",
            "--report-dir", os.path.join(data, "report"),
            *budget,
        ]
        print("running:", " ".join(c if "Bearer" not in c else "-H 'Authorization: Bearer …'" for c in cmd), flush=True)
        env = dict(os.environ, SCHEMATHESIS_HOOKS="st_hooks", PYTHONPATH=os.path.dirname(os.path.abspath(__file__)))
        rc = subprocess.call(cmd, env=env)
        if proc.poll() is not None:
            raise SystemExit(f"the server died during the run (exit {proc.returncode}); log: {data}/server.log")
        if rc != 0:
            raise SystemExit(f"schemathesis found problems (exit {rc}); server log: {data}/server.log")
        print("schemathesis: no failures")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()
