"""deckgen preview --serve: the page over HTTP on 127.0.0.1, a version the page polls, a
reload after each save, and a clean stop."""

from __future__ import annotations

import json
import re
import shutil
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import load_page
from click.testing import CliRunner
from conftest import DATA
from livecommand import LiveCommand

from deckgen.cli import main
from deckgen.preview import make_preview
from deckgen.preview.serve import VERSION_PATH, PreviewServer

KINDS = DATA / "valid" / "kinds.yaml"


def get(url: str) -> tuple[int, str, dict[str, str]]:
    """Status, body and headers of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as e:
        with e:
            return e.code, "", dict(e.headers)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[PreviewServer]:
    """The kinds bank's preview, served at version 1."""
    make_preview(KINDS, tmp_path / "preview", version=1)
    server = PreviewServer(tmp_path / "preview")
    server.version = 1
    server.start()
    yield server
    server.stop()


class TestServer:
    def test_page_and_version(self, served: PreviewServer) -> None:
        """The page and the version, never cached; only on 127.0.0.1."""
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", served.url)
        status, body, headers = get(served.url)
        assert status == 200
        assert '<meta name="deckgen-version" content="1">' in body
        assert headers["Cache-Control"] == "no-store"
        status, body, _ = get(served.url.rstrip("/") + VERSION_PATH)
        assert (status, json.loads(body)) == (200, {"version": 1})
        served.version = 2
        assert json.loads(get(served.url.rstrip("/") + VERSION_PATH)[1]) == {"version": 2}

    def test_no_listing_and_nothing_outside(self, served: PreviewServer, tmp_path: Path) -> None:
        """Folders are not listed, and nothing outside the preview's folder is served."""
        (tmp_path / "preview" / "sub").mkdir()
        (tmp_path / "secret.txt").write_text("secret")
        assert get(served.url + "sub/")[0] == 404
        assert get(served.url + "../secret.txt")[0] == 404
        assert get(served.url + "%2e%2e/secret.txt")[0] == 404

    def test_stale_page_reloads(self, served: PreviewServer, tmp_path: Path) -> None:
        """A page older than the server's version reloads itself (it polls once a second)."""
        folder = tmp_path / "preview"
        shutil.copy(folder / "index.html", folder / "stale.html")
        served.version = 2

        loaded = threading.Event()

        def settle() -> None:
            # Once the page has reloaded, say it is current, as a rewritten page would be.
            while served.requests["/stale.html"] < 2 and not loaded.wait(0.01):
                pass
            served.version = 1

        thread = threading.Thread(target=settle)
        thread.start()
        try:
            _, console = load_page(served.url + "stale.html", budget=4000)
        finally:
            loaded.set()
            thread.join()
        assert served.requests["/stale.html"] >= 2
        assert console == []

    def test_current_page_stays(self, served: PreviewServer) -> None:
        """A page of the current version polls and stays."""
        _, console = load_page(served.url, budget=4000)
        assert served.requests[VERSION_PATH] >= 2
        assert served.requests["/"] == 1
        assert console == []


def test_serve_reloads_after_a_save_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    """The command prints the address, bumps the version when the bank is saved (the page
    is rewritten first), and stops cleanly on Ctrl-C."""
    bank = tmp_path / "bank.yaml"
    shutil.copy(KINDS, bank)
    command = LiveCommand(["preview", "bank.yaml", "--serve", "-o", "site"], cwd=tmp_path)
    try:
        command.expect(r"^Preview site/index\.html updated .*\(0 problems\)$")
        line = command.expect(r"^Serving http://127\.0\.0\.1:\d+/ \(Ctrl-C stops\)$")[-1]
        url = line.split()[1]
        assert json.loads(get(url + VERSION_PATH.lstrip("/"))[1]) == {"version": 1}
        bank.write_text(bank.read_text().replace("**mutable**", "**changeable**"))
        command.expect(r"^Preview site/index\.html updated")
        assert json.loads(get(url + VERSION_PATH.lstrip("/"))[1]) == {"version": 2}
        page = get(url)[1]
        assert "changeable" in page
        assert '<meta name="deckgen-version" content="2">' in page
        bank.write_text(bank.read_text().replace("- id: term-gil", "- id: Term-gil"))
        command.expect(r"^bank\.yaml:12:13: question id 'Term-gil' must be")
        command.expect(r"^Preview .* \(1 problem\)$")
        assert command.interrupt() == 0
        assert command.lines[-1] == "Stopped serving"
    finally:
        command.kill()
    with pytest.raises(urllib.error.URLError):
        get(url)


def test_port_in_use(tmp_path: Path) -> None:
    """A port already taken is an error that names it."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            main, ["preview", str(KINDS), "--serve", "--port", str(port), "-o", str(tmp_path)]
        )
    assert result.exit_code == 1
    assert f"Error: cannot serve on 127.0.0.1:{port}: Address already in use" in result.output
