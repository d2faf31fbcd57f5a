"""A small client for AnkiConnect, the add-on through which programs drive a running Anki.

AnkiConnect (add-on 2055492159) takes one JSON request per HTTP POST, by default on
127.0.0.1:8765, and answers ``{"result": ..., "error": ...}``. Only the standard library is
used; ``urllib.request`` is imported when the first request is sent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from deckgen.errors import DeckgenError

DEFAULT_URL = "http://127.0.0.1:8765"
ADDON_CODE = "2055492159"
API_VERSION = 6
KEY_ENV = "DECKGEN_ANKICONNECT_KEY"
DEFAULT_TIMEOUT = 10.0
# Anki answers only when the whole import is done; a big deck with media takes a while.
IMPORT_TIMEOUT = 600.0
MAX_REPLY = 16 * 1024 * 1024

# The add-on's exact words (plugin/__init__.py, AnkiConnect.handler).
UNSUPPORTED_ACTION = "unsupported action"
KEY_REJECTED = "valid api key must be provided"


class AnkiConnectError(DeckgenError):
    """AnkiConnect could not do what deckgen asked of it."""


class AnkiNotRunningError(AnkiConnectError):
    """Nothing answers at the URL: Anki is closed, or the add-on is not installed."""


class AnkiConnectRefusedError(AnkiConnectError):
    """The add-on answered with an error: a wrong API key, a denied permission, a failed action."""


class AnkiConnectVersionError(AnkiConnectError):
    """The add-on is too old for what deckgen asks of it."""


def check_url(url: str) -> str:
    """Return ``url`` if it can reach AnkiConnect (http or https, with a host); else ValueError."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError as e:
        raise ValueError(f"{url!r} is not a valid URL: {e}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http:// or https:// URL with a host")
    return url


@dataclass(frozen=True)
class AnkiConnect:
    """Where AnkiConnect listens, the API key it wants (if any), and how long to wait."""

    url: str = DEFAULT_URL
    key: str | None = None
    timeout: float = DEFAULT_TIMEOUT

    def invoke(
        self,
        action: str,
        params: Mapping[str, object] | None = None,
        *,
        timeout: float | None = None,
    ) -> object:
        """Run one action and return its result; the add-on's error becomes an exception."""
        return self._unwrap(action, self._post(action, params, timeout=timeout))

    def api_version(self) -> int:
        """The add-on's API version (AnkiConnect's ``version`` action)."""
        reply = self._post("version", None, timeout=None)
        # Add-ons older than API 5 answer with the bare result, without the envelope.
        version = reply if isinstance(reply, int) else self._unwrap("version", reply)
        if not isinstance(version, int) or isinstance(version, bool):
            raise AnkiConnectError(
                f"the server at {self.url} answered 'version' with {_shorten(version)}"
            )
        return version

    def _unwrap(self, action: str, reply: object) -> object:
        """The result in an AnkiConnect reply, or the exception its error stands for."""
        if not (isinstance(reply, dict) and set(reply) == {"result", "error"}):
            raise AnkiConnectError(
                f"the server at {self.url} does not answer like AnkiConnect {API_VERSION} "
                f"(reply to {action!r}: {_shorten(reply)})"
            )
        error = reply["error"]
        if error is None:
            return reply["result"]
        message = str(error)
        if message == KEY_REJECTED:
            given = "The API key given is not" if self.key else "No API key was given; it is"
            raise AnkiConnectRefusedError(
                f"AnkiConnect refused the request: {message}. {given} the apiKey in "
                "AnkiConnect's config (Anki: Tools > Add-ons > AnkiConnect > Config); pass it "
                f"with --api-key or {KEY_ENV}"
            )
        if message == UNSUPPORTED_ACTION:
            raise AnkiConnectVersionError(
                f"AnkiConnect at {self.url} does not have the action {action!r}: {_UPDATE}"
            )
        raise AnkiConnectRefusedError(f"AnkiConnect could not do {action!r}: {message}")

    def check_ready(self) -> int:
        """Check that the add-on answers, accepts the key and can import packages.

        Returns the add-on's API version. Sends no request that changes anything in Anki.
        """
        self._check_permission()
        version = self.api_version()
        if version < API_VERSION:
            raise AnkiConnectVersionError(
                f"AnkiConnect at {self.url} speaks API version {version}; deckgen needs "
                f"{API_VERSION} with the action 'importPackage': {_UPDATE}"
            )
        # importPackage came in May 2020 while the API version had been 6 since 2018, so the
        # version cannot tell. Asked without its `path`, the add-on fails the call before it
        # runs (a missing argument) if it has the action, and says "unsupported action" if not.
        try:
            self.invoke("importPackage", {})
        except AnkiConnectVersionError:
            raise
        except AnkiConnectRefusedError:
            pass
        return version

    def import_package(self, path: Path) -> None:
        """Have Anki import the .apkg at ``path``, which must be absolute: Anki opens it
        itself, and reads a relative path from its own working folder."""
        if not path.is_absolute():
            raise ValueError(f"{path} is not an absolute path")
        result = self.invoke("importPackage", {"path": str(path)}, timeout=IMPORT_TIMEOUT)
        if result is not True:
            raise AnkiConnectRefusedError(
                f"Anki did not import {path}: AnkiConnect answered {_shorten(result)} "
                "(is a profile open in Anki?)"
            )

    def sync(self) -> None:
        """Ask Anki to sync with AnkiWeb; Anki starts the sync and answers at once."""
        self.invoke("sync")

    def _check_permission(self) -> None:
        """Ask ``requestPermission``, the one action that needs no key, whether a key is
        needed, so that a missing key is named as such. Add-ons before 2022 lack it."""
        try:
            answer = self.invoke("requestPermission")
        except AnkiConnectVersionError:
            return
        if not isinstance(answer, dict) or answer.get("permission") != "granted":
            raise AnkiConnectRefusedError(
                f"AnkiConnect at {self.url} denied permission ({_shorten(answer)}); allow "
                "this client in AnkiConnect's config (webCorsOriginList)"
            )
        if answer.get("requireApikey") and not self.key:
            raise AnkiConnectRefusedError(
                "AnkiConnect requires an API key: pass the apiKey from its config (Anki: "
                f"Tools > Add-ons > AnkiConnect > Config) with --api-key or {KEY_ENV}"
            )

    def _post(
        self, action: str, params: Mapping[str, object] | None, *, timeout: float | None
    ) -> object:
        """Send one request and return the decoded JSON reply."""
        import http.client
        import urllib.error
        import urllib.request

        request: dict[str, object] = {"action": action, "version": API_VERSION}
        if params is not None:
            request["params"] = dict(params)
        if self.key:
            request["key"] = self.key
        http_request = urllib.request.Request(
            self.url,
            data=json.dumps(request).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        # No proxies: one taken from the environment would carry a loopback request away.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        seconds = self.timeout if timeout is None else timeout
        try:
            with opener.open(http_request, timeout=seconds) as response:
                body = response.read(MAX_REPLY + 1)
        except urllib.error.HTTPError as e:
            e.close()
            raise AnkiConnectRefusedError(
                f"AnkiConnect at {self.url} answered {action!r} with HTTP {e.code} {e.reason}"
            ) from None
        except urllib.error.URLError as e:
            if isinstance(e.reason, TimeoutError):
                raise self._timed_out(action, seconds) from None
            reason = e.reason.strerror if isinstance(e.reason, OSError) else e.reason
            raise AnkiNotRunningError(
                f"cannot reach Anki at {self.url} ({reason or e.reason}): start Anki with the "
                f"AnkiConnect add-on installed (Tools > Add-ons > Get Add-ons, code {ADDON_CODE})"
            ) from None
        except TimeoutError:
            raise self._timed_out(action, seconds) from None
        except (OSError, http.client.HTTPException) as e:
            raise AnkiConnectError(
                f"the connection to AnkiConnect at {self.url} failed during {action!r}: "
                f"{e or type(e).__name__}"
            ) from None
        if len(body) > MAX_REPLY:
            raise AnkiConnectError(f"the reply from {self.url} to {action!r} is too large")
        try:
            return json.loads(body)
        except ValueError:
            raise AnkiConnectError(
                f"the server at {self.url} does not answer like AnkiConnect "
                f"(reply to {action!r} is not JSON: {_shorten(body)})"
            ) from None

    def _timed_out(self, action: str, seconds: float) -> AnkiConnectError:
        tail = "; Anki may still finish the import" if action == "importPackage" else ""
        return AnkiConnectError(
            f"Anki did not answer {action!r} within {seconds:g} seconds (is a dialog open "
            f"in Anki?){tail}"
        )


_UPDATE = (
    "update the add-on (Anki: Tools > Add-ons, select AnkiConnect, Check for Updates) or "
    f"reinstall it with code {ADDON_CODE}"
)


def _shorten(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
