"""A local stand-in for GitHub's issue-comment endpoints (api.github.com cannot be reached).

Implements exactly what `mlcicd report --post` calls: list (paginated), create and update
issue comments, with GitHub's paths, status codes and JSON shapes; records every request.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


class GitHubStub:
    def __init__(self) -> None:
        self.comments: dict[int, dict[str, Any]] = {}  # id -> {"issue": n, "body": ..}
        self.requests: list[tuple[str, str]] = []
        self._next = 1000
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def _send(self, code: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> dict[str, Any]:
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length) or b"{}")

            def do_GET(self) -> None:
                url = urlparse(self.path)
                stub.requests.append(("GET", url.path))
                match = re.fullmatch(r"/repos/[^/]+/[^/]+/issues/(\d+)/comments", url.path)
                if not match:
                    return self._send(404, {"message": "Not Found"})
                query = parse_qs(url.query)
                per_page = int(query.get("per_page", ["30"])[0])
                page = int(query.get("page", ["1"])[0])
                items = [stub._view(cid) for cid, c in sorted(stub.comments.items())
                         if c["issue"] == int(match.group(1))]
                return self._send(200, items[(page - 1) * per_page: page * per_page])

            def do_POST(self) -> None:
                stub.requests.append(("POST", self.path))
                match = re.fullmatch(r"/repos/[^/]+/[^/]+/issues/(\d+)/comments", self.path)
                if not match:
                    return self._send(404, {"message": "Not Found"})
                stub._next += 1
                stub.comments[stub._next] = {"issue": int(match.group(1)),
                                             "body": self._body()["body"]}
                return self._send(201, stub._view(stub._next))

            def do_PATCH(self) -> None:
                stub.requests.append(("PATCH", self.path))
                match = re.fullmatch(r"/repos/[^/]+/[^/]+/issues/comments/(\d+)", self.path)
                if not match or int(match.group(1)) not in stub.comments:
                    return self._send(404, {"message": "Not Found"})
                comment_id = int(match.group(1))
                stub.comments[comment_id]["body"] = self._body()["body"]
                return self._send(200, stub._view(comment_id))

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _view(self, comment_id: int) -> dict[str, Any]:
        comment = self.comments[comment_id]
        return {"id": comment_id, "body": comment["body"], "user": {"login": "github-actions"}}

    def add(self, issue: int, body: str) -> int:
        self._next += 1
        self.comments[self._next] = {"issue": issue, "body": body}
        return self._next

    def __enter__(self) -> GitHubStub:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


if __name__ == "__main__":  # the demo runs it as a process
    import time

    with GitHubStub() as server:
        print(server.url, flush=True)
        while True:
            time.sleep(3600)
