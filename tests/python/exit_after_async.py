"""One run of the interpreter-exit check (tests/python-exit.sh): an async call
through the generated Python bindings, a sync whose progress listener is being
called when the caller gives up on it, then the interpreter exits at once.

No callback may reach Python after its side dropped the future: a late one
(progress, or the release of the listener) lands in an interpreter that is
shutting down and aborts the process. The exit code must be 0.

    python3 exit_after_async.py <dir with fengqiao_bindings.py and the library>
"""

import asyncio
import datetime
import http.server
import json
import sys
import tempfile
import threading
import uuid

sys.path.insert(0, sys.argv[1])
import fengqiao_bindings as fq  # noqa: E402


class Server(http.server.BaseHTTPRequestHandler):
    """Answers a login, then pull pages without end (each a little late)."""

    pages = 0
    lock = threading.Lock()

    def _json(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        if self.path.startswith("/v1/auth/login"):
            now = datetime.datetime.now(datetime.timezone.utc)
            self._json({
                "access_token": "a", "token_type": "Bearer", "expires_in": 900,
                "expires_at": (now + datetime.timedelta(seconds=900)).isoformat(),
                "refresh_token": "r",
                "refresh_expires_at": (now + datetime.timedelta(days=30)).isoformat(),
                "user": {"id": str(uuid.uuid4()), "username": "leader", "display_name": "组长", "roles": []},
            })
        else:
            self.send_response(404)
            self.send_header("content-length", "0")
            self.end_headers()

    def do_GET(self):
        if self.path.startswith("/v1/sync/pull"):
            threading.Event().wait(0.002)
            with Server.lock:
                Server.pages += 1
                cursor = f"c{Server.pages}"
            self._json({"v": 1, "reset": False, "changes": [], "next_cursor": cursor, "has_more": True})
        else:
            self.send_response(404)
            self.send_header("content-length", "0")
            self.end_headers()

    def log_message(self, *args):
        pass


class Listener(fq.SyncListener):
    def __init__(self):
        self.calls = 0

    def on_progress(self, phase, done, total):
        self.calls += 1


async def main(url, data_dir):
    client = fq.FieldClient(data_dir, url, bytes([4] * 32))
    await client.login("leader", "pw")
    listener = Listener()
    try:
        await asyncio.wait_for(client.sync(listener, None), 0.3)
    except asyncio.TimeoutError:
        pass
    if listener.calls == 0:
        print("the sync never reported progress: the check did not run", file=sys.stderr)
        sys.exit(3)


if __name__ == "__main__":
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Server)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as d:
        asyncio.run(main(f"http://127.0.0.1:{httpd.server_address[1]}", d + "/phone"))
    # exits at once, while the core's threads may still be winding the sync down
