"""A loopback stand-in for the two Cloud Storage JSON API calls the marker cleanup makes.

It is not GCS: it keeps objects in a dict and answers only `objects.list` (with
`prefix`, one page) and `objects.delete`, shaped like the JSON API
(https://cloud.google.com/storage/docs/json_api/v1/objects), which is what the
real `google.cloud.storage` client sends when pointed at it. No bucket is
reachable from the test machines.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

PREFIX = "/storage/v1/b/"


@dataclass
class GcsApiStub:
    """Objects of one bucket: name -> bytes. `deleted` records the delete calls."""

    bucket: str
    objects: dict[str, bytes] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)

    def __enter__(self) -> GcsApiStub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 10

            def do_GET(self):  # noqa: N802 - http.server's naming
                url = urlsplit(self.path)
                if url.path != f"{PREFIX}{stub.bucket}/o":
                    return self._send(404, {"error": {"code": 404, "message": url.path}})
                prefix = parse_qs(url.query).get("prefix", [""])[0]
                items = [
                    {"kind": "storage#object", "bucket": stub.bucket, "name": name,
                     "size": str(len(data))}
                    for name, data in sorted(stub.objects.items())
                    if name.startswith(prefix)
                ]  # fmt: skip
                self._send(200, {"kind": "storage#objects", "items": items})

            def do_DELETE(self):  # noqa: N802
                path = urlsplit(self.path).path
                name = unquote(path.removeprefix(f"{PREFIX}{stub.bucket}/o/"))
                if name not in stub.objects:
                    return self._send(404, {"error": {"code": 404, "message": name}})
                del stub.objects[name]
                stub.deleted.append(name)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

            def _send(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def client(self):
        """The real google.cloud.storage client, talking to this stand-in."""
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        host, port = self._server.server_address[:2]
        return storage.Client(
            project="test",
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": f"http://{host}:{port}"},
        )
