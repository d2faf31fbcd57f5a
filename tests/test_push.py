"""`deckgen push` against an AnkiConnect stand-in backed by Anki's own backend.

Everything is real except Anki's window: the HTTP requests, the add-on's answers and error
texts, and the import, which Anki's backend runs with the options AnkiConnect gives it.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from threading import Thread
from typing import Any

import pytest
from anki.collection import Collection, ImportAnkiPackageRequest
from ankiconnect_server import ANKICONNECT_IMPORT_OPTIONS, AnkiConnectServer
from click.testing import CliRunner, Result
from conftest import progress, study

from deckgen.ankiconnect import (
    AnkiConnect,
    AnkiConnectError,
    AnkiConnectRefusedError,
    AnkiConnectVersionError,
    AnkiNotRunningError,
    check_url,
)
from deckgen.cli import main

DECK = "Interview::Python Basics"
LOCAL_TAG = "my-own-tag"
V1_TIME: dict[str, str | None] = {"SOURCE_DATE_EPOCH": "1700000000"}
StartServer = Callable[..., AnkiConnectServer]


@pytest.fixture
def start_server(collection: Collection) -> Iterator[StartServer]:
    """Start AnkiConnect stand-ins over the test's collection; all stop at the end."""
    with ExitStack() as stack:

        def start(**options: Any) -> AnkiConnectServer:
            options.setdefault("col", collection)
            return stack.enter_context(AnkiConnectServer(**options))

        yield start


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "out" / "deck.apkg"


def push(*args: str | Path, env: dict[str, str | None] | None = None) -> Result:
    env = {"SOURCE_DATE_EPOCH": None, "DECKGEN_ANKICONNECT_KEY": None, **(env or {})}
    return CliRunner().invoke(main, ["push", *map(str, args)], env=env)


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (it was free a moment ago)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def nothing_written(source: Path, out: Path) -> bool:
    return not out.parent.exists() and not source.with_suffix(".lock").exists()


class TestClient:
    def test_request_is_version_6_with_the_key(self, start_server: StartServer) -> None:
        """Each request names the action, API version 6 and the key; the result comes back."""
        server = start_server(api_key="s3cret")
        assert AnkiConnect(server.url, key="s3cret").invoke("version") == 6
        assert server.requests == [{"action": "version", "version": 6, "key": "s3cret"}]

    def test_no_key_field_without_a_key(self, start_server: StartServer) -> None:
        """Without a key the request has no `key` field, as the add-on's default expects."""
        server = start_server()
        AnkiConnect(server.url).invoke("sync", {})
        assert server.requests == [{"action": "sync", "version": 6, "params": {}}]
        assert server.sync_requests == 1

    def test_proxy_settings_are_ignored(
        self, start_server: StartServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A proxy from the environment would carry the loopback request elsewhere."""
        for name in ("http_proxy", "HTTP_PROXY", "all_proxy"):
            monkeypatch.setenv(name, f"http://127.0.0.1:{free_port()}")
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.delenv("NO_PROXY", raising=False)
        assert AnkiConnect(start_server().url).api_version() == 6

    def test_nothing_listening(self) -> None:
        """A refused connection means Anki or the add-on is not running."""
        client = AnkiConnect(f"http://127.0.0.1:{free_port()}")
        with pytest.raises(AnkiNotRunningError, match=r"\(Connection refused\).*2055492159"):
            client.check_ready()

    def test_no_answer_times_out(self) -> None:
        """A server that accepts and never answers is given up on after the timeout."""
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen(1)
            client = AnkiConnect(f"http://127.0.0.1:{listener.getsockname()[1]}", timeout=0.2)
            with pytest.raises(AnkiConnectError, match=r"did not answer 'version' within 0\.2 s"):
                client.api_version()

    def test_another_web_server(self) -> None:
        """A web server that is not AnkiConnect is named as such, not as a traceback."""
        http = HTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)  # answers POST with 501
        thread = Thread(target=http.handle_request)
        thread.start()
        try:
            client = AnkiConnect(f"http://127.0.0.1:{http.server_address[1]}")
            with pytest.raises(AnkiConnectRefusedError, match="'version' with HTTP 501"):
                client.api_version()
        finally:
            thread.join(timeout=10)
            http.server_close()

    def test_probe_runs_nothing(self, start_server: StartServer, collection: Collection) -> None:
        """check_ready asks for importPackage without a path: the add-on fails the call."""
        server = start_server()
        assert AnkiConnect(server.url).check_ready() == 6
        assert server.actions_called == ["requestPermission", "version", "importPackage"]
        assert collection.note_count() == 0

    def test_add_on_without_import_package(self, start_server: StartServer) -> None:
        """An add-on of 2018-2020 says version 6 but lacks importPackage; the probe finds out."""
        server = start_server(actions={"version", "sync"})
        with pytest.raises(AnkiConnectVersionError, match="does not have the action 'importP"):
            AnkiConnect(server.url).check_ready()

    def test_anki_error_is_reported(self, start_server: StartServer, tmp_path: Path) -> None:
        """An error raised inside Anki comes back as the reply's error, and is reported."""
        client = AnkiConnect(start_server().url)
        with pytest.raises(AnkiConnectRefusedError, match="could not do 'importPackage': "):
            client.import_package(tmp_path / "missing.apkg")

    def test_relative_path_is_refused(self) -> None:
        """Anki would read a relative path from its own working folder."""
        with pytest.raises(ValueError, match="not an absolute path"):
            AnkiConnect().import_package(Path("dist/deck.apkg"))

    @pytest.mark.parametrize("url", ["127.0.0.1:8765", "ftp://127.0.0.1", "http://", "http://h:x"])
    def test_bad_url(self, url: str) -> None:
        """Only http(s) URLs with a host are accepted."""
        with pytest.raises(ValueError, match="URL"):
            check_url(url)

    def test_stand_in_imports_as_anki_package_importer_does(
        self, collection: Collection, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The stand-in's options are those of anki.importing.AnkiPackageImporter, the
        importer AnkiConnect's importPackage runs."""
        from anki import importing

        requests: list[ImportAnkiPackageRequest] = []
        monkeypatch.setattr(collection, "import_anki_package", requests.append)
        importing.AnkiPackageImporter(collection, "/tmp/deck.apkg").run()
        assert [r.options for r in requests] == [ANKICONNECT_IMPORT_OPTIONS]
        assert requests[0].package_path == "/tmp/deck.apkg"


class TestPushCommand:
    def test_push_and_sync(
        self, start_server: StartServer, collection: Collection, small_copy: Path, out: Path
    ) -> None:
        """Anki is checked, the package built and imported by absolute path, then synced."""
        server = start_server()
        result = push(small_copy, "-o", out, "--url", server.url, "--sync")
        assert (result.exit_code, result.stderr) == (0, "")
        assert result.stdout.splitlines()[-2:] == [
            f"Imported {out.resolve()} into Anki, deck {DECK}",
            "Asked Anki to sync with AnkiWeb",
        ]
        assert server.actions_called == [
            "requestPermission",
            "version",
            "importPackage",
            "importPackage",
            "sync",
        ]
        assert server.requests[3]["params"] == {"path": str(out.resolve())}
        assert collection.note_count() == 3
        assert collection.decks.id_for_name(DECK)
        assert small_copy.with_suffix(".lock").exists()

    def test_anki_not_running(self, small_copy: Path, out: Path) -> None:
        """Nothing listening: exit 1, a message that says what to start, nothing written."""
        url = f"http://127.0.0.1:{free_port()}"
        result = push(small_copy, "-o", out, "--url", url)
        assert (result.exit_code, result.stdout, result.stderr) == (
            1,
            "",
            f"Error: cannot reach Anki at {url} (Connection refused): start Anki with the "
            "AnkiConnect add-on installed (Tools > Add-ons > Get Add-ons, code 2055492159); "
            "nothing was built\n",
        )
        assert nothing_written(small_copy, out)

    def test_wrong_api_key(self, start_server: StartServer, small_copy: Path, out: Path) -> None:
        """A wrong key is refused before anything is built."""
        server = start_server(api_key="right")
        result = push(small_copy, "-o", out, "--url", server.url, "--api-key", "wrong")
        assert result.exit_code == 1
        assert result.stderr.startswith(
            "Error: AnkiConnect refused the request: valid api key must be provided. "
            "The API key given is not the apiKey in AnkiConnect's config"
        )
        assert result.stderr.endswith("; nothing was built\n")
        assert nothing_written(small_copy, out)
        assert "importPackage" not in server.actions_called

    def test_missing_api_key(self, start_server: StartServer, small_copy: Path, out: Path) -> None:
        """When the add-on wants a key and none is given, the message says so."""
        server = start_server(api_key="right")
        result = push(small_copy, "-o", out, "--url", server.url)
        assert result.exit_code == 1
        assert result.stderr.startswith("Error: AnkiConnect requires an API key: pass the apiKey")
        assert "--api-key or DECKGEN_ANKICONNECT_KEY" in result.stderr
        assert nothing_written(small_copy, out)

    def test_api_key_from_environment(
        self, start_server: StartServer, collection: Collection, small_copy: Path, out: Path
    ) -> None:
        """DECKGEN_ANKICONNECT_KEY stands for --api-key."""
        server = start_server(api_key="right")
        result = push(
            small_copy, "-o", out, "--url", server.url, env={"DECKGEN_ANKICONNECT_KEY": "right"}
        )
        assert result.exit_code == 0, result.stderr
        assert {r.get("key") for r in server.requests} == {"right"}
        assert collection.note_count() == 3

    @pytest.mark.parametrize(
        ("options", "message"),
        [
            ({"api_version": 5}, "speaks API version 5; deckgen needs 6"),
            ({"api_version": 4, "actions": {"version"}}, "speaks API version 4; deckgen needs 6"),
            (
                {"actions": {"version", "sync"}},  # 2018-2020: version 6, no importPackage
                "does not have the action 'importPackage': update the add-on",
            ),
        ],
    )
    def test_add_on_too_old(
        self,
        start_server: StartServer,
        small_copy: Path,
        out: Path,
        options: dict[str, Any],
        message: str,
    ) -> None:
        """An add-on that cannot import packages is found out before anything is built."""
        server = start_server(**options)
        result = push(small_copy, "-o", out, "--url", server.url)
        assert result.exit_code == 1
        assert message in result.stderr
        assert result.stderr.startswith("Error: ")
        assert "Traceback" not in result.stderr
        assert result.stderr.endswith("; nothing was built\n")
        assert nothing_written(small_copy, out)

    def test_add_on_error_on_import(
        self, start_server: StartServer, small_copy: Path, out: Path
    ) -> None:
        """Anki without an open profile: the add-on's error, and where the package is."""
        server = start_server(col=None)
        result = push(small_copy, "-o", out, "--url", server.url)
        assert (result.exit_code, result.stdout) == (1, "")
        assert result.stderr == (
            "Error: AnkiConnect could not do 'importPackage': collection is not available; "
            f"{out.resolve()} was built but not imported\n"
        )

    def test_invalid_source_imports_nothing(
        self, start_server: StartServer, collection: Collection, tmp_path: Path, out: Path
    ) -> None:
        """A source with problems is reported as `build` reports it; nothing is imported."""
        source = tmp_path / "bad.yaml"
        source.write_text("deck: {name: X, id: 1}\ntopics: []\n", encoding="utf-8")
        server = start_server()
        result = push(source, "-o", out, "--url", server.url)
        assert result.exit_code == 1
        assert result.stderr.endswith("; nothing was written\n")
        assert [r.get("params") for r in server.requests if r["action"] == "importPackage"] == [{}]
        assert collection.note_count() == 0

    def test_help(self) -> None:
        """The help names the add-on, the key's variable and an example."""
        result = CliRunner().invoke(main, ["push", "--help"])
        assert result.exit_code == 0
        for text in ("2055492159", "DECKGEN_ANKICONNECT_KEY", "Example:"):
            assert text in result.stdout

    @pytest.mark.parametrize("args", [["--url", "localhost:8765"], ["--no-such-option"], []])
    def test_usage_errors(self, small_copy: Path, args: list[str]) -> None:
        """A bad URL, an unknown option or a missing SOURCE exit 2."""
        result = push(*([small_copy] if args else []), *args)
        assert result.exit_code == 2
        assert "Traceback" not in result.stderr


def test_push_study_edit_push(
    start_server: StartServer, collection: Collection, small_copy: Path, tmp_path: Path
) -> None:
    """v1, study, a local tag, one question edited, v2: no duplicates, progress and the
    local tag on every untouched note kept, the edit shown."""
    server = start_server()
    # v1 a while ago: the release time is a second ahead, and the studying below must be
    # newer than v1's notes, as it is when a person studies.
    v1 = push(small_copy, "-o", tmp_path / "v1.apkg", "--url", server.url, env=V1_TIME)
    assert v1.exit_code == 0, v1.stderr
    assert collection.note_count() == 3
    study(collection, DECK, 2)
    collection.tags.bulk_add(list(collection.find_notes("")), LOCAL_TAG)
    studied = progress(collection)
    assert len(studied) == 2
    cards = sorted(collection.find_cards(""))
    (edited,) = collection.find_notes("ID:for-else")
    untouched = [n for n in collection.find_notes("") if n != edited]
    untouched_mods = [collection.get_note(n).mod for n in untouched]

    text = small_copy.read_text(encoding="utf-8")
    new_question = "When does the `else` clause of a `for` loop run?"
    small_copy.write_text(
        text.replace("When does the `else` of a `for` loop run?", new_question), encoding="utf-8"
    )
    v2 = push(small_copy, "-o", tmp_path / "v2.apkg", "--url", server.url)
    assert v2.exit_code == 0, v2.stderr
    assert "1 changed" in v2.stdout

    assert collection.note_count() == 3
    assert sorted(collection.find_cards("")) == cards
    assert progress(collection) == studied
    note = collection.get_note(edited)
    assert note["Question"] == (
        "When does the <code>else</code> clause of a <code>for</code> loop run?"
    )
    assert "clause" in note.cards()[0].question()
    # Anki replaces an updated note's tags with the package's; the rest keep theirs.
    assert LOCAL_TAG not in note.tags
    assert all(LOCAL_TAG in collection.get_note(n).tags for n in untouched)
    assert [collection.get_note(n).mod for n in untouched] == untouched_mods

    again = push(small_copy, "-o", tmp_path / "v2.apkg", "--url", server.url)
    assert again.exit_code == 0, again.stderr
    assert collection.note_count() == 3
    assert progress(collection) == studied
    assert all(LOCAL_TAG in collection.get_note(n).tags for n in untouched)
