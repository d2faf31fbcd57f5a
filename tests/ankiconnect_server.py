"""An AnkiConnect stand-in for tests: the add-on's request handling over Anki's real backend.

It answers as AnkiConnect 6 does (FooSoft/anki-connect, plugin/__init__.py ``handler`` and
plugin/web.py): the API key is checked before anything but ``requestPermission``; an action
it lacks is "unsupported action"; an action's exception becomes the reply's ``error``.
``importPackage`` runs what the add-on runs, ``anki.importing.AnkiPackageImporter``, which in
Anki 26.9 is ``Collection.import_anki_package`` with ``ANKICONNECT_IMPORT_OPTIONS``.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Collection as Container
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import TracebackType
from typing import Any

from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

# What anki.importing.AnkiPackageImporter passes (update conditions left at IF_NEWER).
ANKICONNECT_IMPORT_OPTIONS = ImportAnkiPackageOptions(
    merge_notetypes=True, with_scheduling=True, with_deck_configs=True
)
ACTIONS = frozenset({"version", "requestPermission", "importPackage", "sync"})
MAX_REQUEST = 1024 * 1024


class AnkiConnectServer:
    """Serve AnkiConnect's protocol for ``col`` on a free port of 127.0.0.1, in a thread."""

    def __init__(
        self,
        col: Collection | None,
        *,
        api_key: str | None = None,
        api_version: int = 6,
        actions: Container[str] = ACTIONS,
    ) -> None:
        self.col = col  # None: Anki is open at its profile chooser, no collection loaded
        self.api_key = api_key
        self.api_version = api_version
        self.actions = actions
        self.requests: list[dict[str, Any]] = []
        self.sync_requests = 0
        self.http = HTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        self.thread = threading.Thread(target=self.http.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> AnkiConnectServer:
        self.thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.http.shutdown()
        self.http.server_close()
        self.thread.join(timeout=10)

    @property
    def actions_called(self) -> list[str]:
        """The actions asked for, in order."""
        return [str(r.get("action")) for r in self.requests]

    def handle(self, request: dict[str, Any]) -> object:
        """AnkiConnect.handler: check the key, find the action, call it, wrap the answer."""
        self.requests.append(request)
        name = request.get("action", "")
        version = request.get("version", 4)
        params = request.get("params", {})
        try:
            if request.get("key") != self.api_key and name != "requestPermission":
                raise Exception("valid api key must be provided")
            if name not in self.actions:
                raise Exception("unsupported action")
            result = getattr(self, f"action_{name}")(**params)
        except Exception as e:
            return {"result": None, "error": str(e)}
        # Before API 5 the add-on answered with the bare result.
        if version <= 4 or self.api_version <= 4:
            return result
        return {"result": result, "error": None}

    def action_version(self) -> int:
        return self.api_version

    def action_requestPermission(self, origin: str, allowed: bool) -> dict[str, object]:
        # The web layer fills both in; a request without an Origin header is allowed.
        assert allowed, "deckgen's requests carry no Origin header"
        return {
            "permission": "granted",
            "requireApikey": bool(self.api_key),
            "version": self.api_version,
        }

    def action_importPackage(self, path: str) -> bool:
        if self.col is None:
            raise Exception("collection is not available")
        # Anki's working folder is the collection's media folder; join keeps absolute paths.
        full = os.path.join(self.col.media.dir(), path)
        request = ImportAnkiPackageRequest(package_path=full, options=ANKICONNECT_IMPORT_OPTIONS)
        self.col.import_anki_package(request)
        return True

    def action_sync(self) -> None:
        # The add-on calls mw.onSync(), which starts a sync in the background and returns.
        self.sync_requests += 1


def _handler_for(server: AnkiConnectServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = min(int(self.headers.get("Content-Length", 0)), MAX_REQUEST)
            try:
                request = json.loads(self.rfile.read(length))
                if not isinstance(request, dict) or not isinstance(request.get("action"), str):
                    raise ValueError("'action' is a required property")
            except ValueError as e:
                reply: object = {"result": None, "error": str(e)}
            else:
                if request["action"] == "requestPermission":
                    origin = self.headers.get("Origin")
                    request["params"] = {"origin": origin or "", "allowed": origin is None}
                reply = server.handle(request)
            body = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output clean

    return Handler
