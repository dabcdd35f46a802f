#!/usr/bin/env python3
"""tus interoperability: the official tus Python client (`tuspy`, from PyPI)
uploads photos to a live Fengqiao server, and the server's blob folder is
checked.

    python3 tests/interop/tuspy_upload.py [path/to/fengqiao-server]

Starts `fengqiao-server serve --data DIR --listen 127.0.0.1:PORT --demo` on a
fresh data dir, logs in as a demo group leader through /v1/auth/login, then:
  1. uploads a 3 MiB file in 1 MiB chunks with per-chunk checksums; the server
     must keep exactly those bytes under DIR/photos/blobs/<aa>/<sha256>;
  2. uploads a file declaring the wrong sha256; the server must refuse it and
     keep nothing;
  3. uploads through a proxy that cuts the connection during the last chunk,
     after the server kept the photo and before its answer: tuspy asks HEAD for
     the offset (tus 1.0: a completed upload keeps answering it) and finishes.
Exits non-zero on any failure.
"""
import base64
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError, TusUploadFailed


from live_server import free_port, wait_healthy  # noqa: E402


def login(url, data_dir):
    creds = json.load(open(os.path.join(data_dir, "demo-credentials.json")))
    leader = next(c for c in creds if c["username"].startswith("leader."))
    body = json.dumps({"username": leader["username"], "password": leader["password"]}).encode()
    req = urllib.request.Request(url + "/v1/auth/login", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)["access_token"]


def blob_path(data_dir, sha):
    return os.path.join(data_dir, "photos", "blobs", sha[:2], sha)


def check(cond, msg):
    if not cond:
        raise SystemExit("FAIL: " + msg)
    print("ok:", msg)


class CutLastChunk:
    """A loopback TCP proxy in front of the server that passes everything, but
    swallows the answer to the one PATCH at `offset` and cuts that connection:
    the chunk reaches the server whole, only its answer is lost."""

    def __init__(self, upstream_port, offset):
        self.upstream_port = upstream_port
        self.marker = b"upload-offset: " + str(offset).encode()
        self.cuts = 0
        self.lock = threading.Lock()
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.url = "http://127.0.0.1:%d" % self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        state = {"cut": False, "head": b""}

        def up():
            try:
                while True:
                    data = client.recv(65536)
                    if not data:
                        break
                    if len(state["head"]) < 16384:
                        state["head"] += data
                        with self.lock:
                            if self.cuts == 0 and self.marker in state["head"].lower():
                                self.cuts = 1
                                state["cut"] = True
                    upstream.sendall(data)
            except OSError:
                pass

        threading.Thread(target=up, daemon=True).start()
        try:
            while True:
                data = upstream.recv(65536)
                if not data or state["cut"]:
                    break
                client.sendall(data)
        except OSError:
            pass
        for s in (client, upstream):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self):
        self.listener.close()


def main():
    server_bin = sys.argv[1] if len(sys.argv) > 1 else "target/debug/fengqiao-server"
    work = tempfile.mkdtemp(prefix="fq-tuspy-")
    data_dir = os.path.join(work, "data")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(os.path.join(work, "server.log"), "w")
    proc = subprocess.Popen(
        [server_bin, "serve", "--data", data_dir, "--listen", f"127.0.0.1:{port}", "--demo"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_healthy(url, proc)
        token = login(url, data_dir)
        tus = tus_client.TusClient(url + "/v1/photos/", headers={"Authorization": "Bearer " + token})

        # 1. a good upload, chunked, each chunk checksummed
        data = os.urandom(3 * 1024 * 1024 + 123)
        sha = hashlib.sha256(data).hexdigest()
        path = os.path.join(work, "photo.jpg")
        open(path, "wb").write(data)
        up = tus.uploader(
            file_path=path,
            chunk_size=1024 * 1024,
            metadata={"sha256": sha, "filename": "photo.jpg"},
            upload_checksum=True,
        )
        up.upload()
        check(up.offset == len(data), "tuspy sent every byte")
        kept = blob_path(data_dir, sha)
        check(os.path.isfile(kept), "the server kept the blob under photos/blobs/<aa>/<sha256>")
        with open(kept, "rb") as f:
            check(hashlib.sha256(f.read()).hexdigest() == sha, "the kept blob has the declared hash")

        # 2. a lie about the hash: refused, nothing kept
        other = os.urandom(200 * 1024)
        wrong = hashlib.sha256(b"something else").hexdigest()
        path2 = os.path.join(work, "other.jpg")
        open(path2, "wb").write(other)
        up2 = tus.uploader(file_path=path2, chunk_size=64 * 1024, metadata={"sha256": wrong}, retries=0)
        try:
            up2.upload()
            refused = False
        except (TusUploadFailed, TusCommunicationError) as e:
            refused = getattr(e, "status_code", None) == 422
        check(refused, "an upload whose bytes do not match its sha256 is refused (422)")
        check(not os.path.exists(blob_path(data_dir, wrong)), "and nothing is kept under the declared hash")
        real = hashlib.sha256(other).hexdigest()
        check(not os.path.exists(blob_path(data_dir, real)), "nor under the real one")

        # 3. the connection is cut during the last chunk, after the server kept
        #    the photo: tuspy's HEAD finds the whole upload there and finishes
        chunk = 1024 * 1024
        data3 = os.urandom(2 * chunk + 77)
        sha3 = hashlib.sha256(data3).hexdigest()
        path3 = os.path.join(work, "cut.jpg")
        open(path3, "wb").write(data3)
        proxy = CutLastChunk(port, 2 * chunk)
        try:
            tus3 = tus_client.TusClient(proxy.url + "/v1/photos/", headers={"Authorization": "Bearer " + token})
            up3 = tus3.uploader(
                file_path=path3, chunk_size=chunk, metadata={"sha256": sha3}, retries=3, retry_delay=0.2
            )
            up3.upload()
        finally:
            proxy.close()
        check(proxy.cuts == 1, "the answer to the last chunk was cut")
        check(up3.offset == len(data3), "tuspy resumed from HEAD's offset after the cut and finished")
        with open(blob_path(data_dir, sha3), "rb") as f:
            check(hashlib.sha256(f.read()).hexdigest() == sha3, "the photo of the cut upload is kept")
        print("tuspy interop: all checks passed")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


if __name__ == "__main__":
    main()
