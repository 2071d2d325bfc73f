"""A loopback stand-in for the two Cloud Storage JSON API calls the marker cleanup makes.

It is not GCS: it keeps objects in a dict and answers only `objects.list` (with
`prefix`, one page) and `objects.delete`, shaped like the JSON API
(https://cloud.google.com/storage/docs/json_api/v1/objects), which is what the
real `google.cloud.storage` client sends when pointed at it. No bucket is
reachable from the test machines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from tests.kubeflow.loopback_server import LoopbackServer, QuietHandler

PREFIX = "/storage/v1/b/"


@dataclass
class GcsApiStub(LoopbackServer):
    """Objects of one bucket: name -> bytes. `deleted` records the delete calls."""

    bucket: str
    objects: dict[str, bytes] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)

    def __enter__(self) -> GcsApiStub:
        stub = self

        class Handler(QuietHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                url = urlsplit(self.path)
                if url.path != f"{PREFIX}{stub.bucket}/o":
                    return self.send_json(404, {"error": {"code": 404, "message": url.path}})
                prefix = parse_qs(url.query).get("prefix", [""])[0]
                items = [
                    {"kind": "storage#object", "bucket": stub.bucket, "name": name,
                     "size": str(len(data))}
                    for name, data in sorted(stub.objects.items())
                    if name.startswith(prefix)
                ]  # fmt: skip
                self.send_json(200, {"kind": "storage#objects", "items": items})

            def do_DELETE(self):  # noqa: N802
                path = urlsplit(self.path).path
                name = unquote(path.removeprefix(f"{PREFIX}{stub.bucket}/o/"))
                if name not in stub.objects:
                    return self.send_json(404, {"error": {"code": 404, "message": name}})
                del stub.objects[name]
                stub.deleted.append(name)
                self.send_response(204)
                self.end_headers()

        self.serve(Handler)
        return self

    def client(self):
        """The real google.cloud.storage client, talking to this stand-in."""
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        return storage.Client(
            project="test",
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": self.url},
        )
