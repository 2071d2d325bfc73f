"""A loopback HTTP server that records requests and answers like the KFP v2beta1 REST API.

It stands in for a Kubeflow Pipelines API server in contract tests: it binds to
127.0.0.1 only, answers only the routes the tests need with canned bodies, refuses
everything after MAX_REQUESTS, times out idle connections, and is shut down by its
context manager.
"""

from __future__ import annotations

import email
import json
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from tests.kubeflow.loopback_server import LoopbackServer, QuietHandler

API = "/apis/v2beta1"
MAX_REQUESTS = 50
EXPERIMENT = {"experiment_id": "exp-1", "display_name": "image-transfer-learning"}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    body: dict | None
    authorization: str | None


@dataclass
class KfpApiStub(LoopbackServer):
    """Answers like an empty KFP backend; `reject_auth` answers 401 except on /healthz."""

    reject_auth: bool = False
    experiments: list[dict] = field(default_factory=list)
    pipelines: list[dict] = field(default_factory=list)
    recurring_runs: list[dict] = field(default_factory=list)
    runs: list[dict] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)

    def __enter__(self) -> KfpApiStub:
        stub = self

        class Handler(QuietHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                self._answer()

            def do_POST(self):  # noqa: N802
                self._answer()

            def do_DELETE(self):  # noqa: N802
                self._answer()

            def _answer(self):
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                content_type = self.headers.get("Content-Type", "")
                if content_type.startswith("multipart/form-data"):
                    body = _uploaded_files(content_type, raw)
                else:
                    body = json.loads(raw) if raw else None
                request = Request(
                    self.command,
                    url.path,
                    parse_qs(url.query),
                    body,
                    self.headers.get("Authorization"),
                )
                if len(stub.requests) >= MAX_REQUESTS:
                    status, payload = 503, {"error": "request limit of the test server"}
                else:
                    stub.requests.append(request)
                    status, payload = stub.respond(request)
                self.send_json(status, payload)

        self.serve(Handler)
        return self

    def calls(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.requests]

    def respond(self, request: Request) -> tuple[int, dict]:
        method, path = request.method, request.path
        if path == f"{API}/healthz":
            return 200, {"multi_user": False}
        if self.reject_auth:
            return 401, {"error": "Unauthorized", "code": 16}
        if (method, path) == ("GET", f"{API}/experiments"):
            return 200, {"experiments": self.experiments, "total_size": len(self.experiments)}
        if (method, path) == ("POST", f"{API}/experiments"):
            self.experiments.append(EXPERIMENT)
            return 200, EXPERIMENT
        if (method, path) == ("GET", f"{API}/pipelines"):
            return 200, {"pipelines": self.pipelines, "total_size": len(self.pipelines)}
        if (method, path) == ("POST", f"{API}/pipelines/upload"):
            pipeline = {"pipeline_id": "p-1", "display_name": request.query["name"][0]}
            self.pipelines.append(pipeline)
            return 200, pipeline
        if (method, path) == ("POST", f"{API}/pipelines/upload_version"):
            return 200, {
                "pipeline_id": request.query["pipelineid"][0],
                "pipeline_version_id": "pv-1",
                "display_name": request.query["name"][0],
            }
        if (method, path) == ("POST", f"{API}/runs"):
            return 200, {"run_id": "run-1", **request.body, "state": "PENDING"}
        if (method, path) == ("GET", f"{API}/runs"):
            return 200, {"runs": self.runs, "total_size": len(self.runs)}
        if method == "GET" and path.startswith(f"{API}/runs/"):
            run_id = path.rsplit("/", 1)[1]
            found = [run for run in self.runs if run["run_id"] == run_id]
            if not found:
                return 404, {"error": f"run {run_id} not found", "code": 5}
            return 200, found[0]
        if (method, path) == ("POST", f"{API}/recurringruns"):
            return 200, {"recurring_run_id": "rr-1", **request.body}
        if (method, path) == ("GET", f"{API}/recurringruns"):
            return 200, {"recurringRuns": self.recurring_runs}  # the server's JSON name
        if method == "DELETE" and path.startswith(f"{API}/recurringruns/"):
            return 200, {}
        if method == "DELETE" and path.startswith(f"{API}/runs/"):
            run_id = path.rsplit("/", 1)[1]
            self.runs = [run for run in self.runs if run["run_id"] != run_id]
            return 200, {}
        return 404, {"error": f"no route {method} {path}"}


def _uploaded_files(content_type: str, raw: bytes) -> dict[str, str]:
    """A multipart/form-data body (kfp's uploads) as {field name: file text}."""
    message = email.message_from_bytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    return {
        part.get_param("name", header="content-disposition"): part.get_payload(decode=True).decode()
        for part in message.get_payload()
    }
