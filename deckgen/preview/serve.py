"""``deckgen preview --serve``: the preview's folder over HTTP on 127.0.0.1, and a version
number the page asks for once a second; it reloads when the number changes, which happens
each time the preview is rewritten after a save (:class:`deckgen.watch.Watcher`)."""

from __future__ import annotations

import json
import threading
from collections import Counter
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from deckgen.errors import DeckgenError
from deckgen.watch import Say, Watcher

VERSION_PATH = "/__deckgen__/version"


class _Handler(SimpleHTTPRequestHandler):
    """Files of the preview folder (no listings), never cached, and the version."""

    server: _Server

    def do_GET(self) -> None:
        self.server.requests[self.path.split("?", 1)[0]] += 1
        if self.path.split("?", 1)[0] == VERSION_PATH:
            body = json.dumps({"version": self.server.version}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def list_directory(self, path: str | Any) -> None:
        self.send_error(404, "No listing")
        return None

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request would bury what the watch prints


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    version = 0
    requests: Counter[str]


class PreviewServer:
    """An HTTP server for one preview folder, on its own thread until :meth:`stop`."""

    def __init__(self, folder: Path, *, port: int = 0, host: str = "127.0.0.1") -> None:
        handler = partial(_Handler, directory=str(folder))
        self._httpd = _Server((host, port), handler)
        self._httpd.requests = Counter()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="deckgen-preview", daemon=True
        )

    @property
    def url(self) -> str:
        """The page's address."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/"

    @property
    def version(self) -> int:
        """The number the page compares with its own to know it is out of date."""
        return self._httpd.version

    @version.setter
    def version(self, value: int) -> None:
        self._httpd.version = value

    @property
    def requests(self) -> Counter[str]:
        """How often each path was asked for (the page's polling included)."""
        return self._httpd.requests

    def start(self) -> None:
        """Serve on a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join(timeout=5)
        self._httpd.server_close()


def serve_preview(source: Path, folder: Path, *, name: str, port: int, say: Say) -> None:
    """Write the preview of ``source`` to ``folder``, serve it on 127.0.0.1:``port`` (0: a
    free port) and rewrite it after every save, until interrupted (Ctrl-C)."""
    watcher = Watcher(source, say=say, name=name, build=False, preview=folder)
    watcher.rebuild()
    try:
        server = PreviewServer(folder, port=port)
    except OSError as e:
        raise DeckgenError(f"cannot serve on 127.0.0.1:{port}: {e.strerror or e}") from e
    server.version = watcher.version
    watcher.server = server
    server.start()
    say(f"Serving {server.url} (Ctrl-C stops)", "good")
    try:
        watcher.follow()
    finally:
        server.stop()
