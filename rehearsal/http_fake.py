"""A small threaded HTTP server for the rehearsal's stand-ins of outside APIs.

Why: the clients must be tested against something that rejects a wrongly shaped request the
way the real API would, and that the test can read back (`calls`, `problems`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = tuple[int, Any]
Route = Callable[[str, str, dict[str, str], Any], Reply | None]


class FakeServer:
    """Serves `route(method, path, headers, json_body)` on 127.0.0.1; use as a context manager."""

    # How often the serving loop looks whether it was asked to stop: leaving the `with` waits up
    # to this long (http.server's default, 0.5 s, made each test using a stand-in 0.5 s slower).
    poll_interval = 0.02

    def __init__(self, route: Route) -> None:
        self.route = route
        self.calls: list[tuple[str, str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = {key.lower(): value for key, value in self.headers.items()}
                body = owner.decode(self.path, headers, raw)
                owner.calls.append((self.command, self.path, body))
                reply = owner.route(self.command, self.path, headers, body)
                status, payload = reply if reply is not None else (404, {"message": "Not Found"})
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = _serve  # noqa: N815 - http.server's naming

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(self.poll_interval,), daemon=True
        )

    def decode(self, path: str, headers: dict[str, str], raw: bytes) -> Any:
        """The body the route gets: parsed JSON here; a server taking files keeps the bytes."""
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return {"<not json>": raw.decode(errors="replace")}

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
