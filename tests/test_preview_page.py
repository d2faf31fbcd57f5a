"""deckgen preview without a browser: the files it writes, what the page carries, the
folders it refuses, and the command line's output and exit codes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import DATA, WriteSource

from deckgen.cli import main
from deckgen.errors import PathError
from deckgen.preview import DEFAULT_FOLDER, make_preview

KINDS = DATA / "valid" / "kinds.yaml"
MEDIA = DATA / "media" / "bank.yaml"


def page_data(page: Path) -> dict[str, object]:
    """The JSON the page's script reads."""
    html = page.read_text(encoding="utf-8")
    match = re.search(r'<script type="application/json" id="deck-data">(.*?)</script>', html, re.S)
    assert match is not None
    assert "<" not in match[1]
    data: dict[str, object] = json.loads(match[1])
    return data


class TestFiles:
    def test_page_and_media(self, tmp_path: Path) -> None:
        """index.html and the media the cards show, under their packed names."""
        preview = make_preview(MEDIA, tmp_path, name="bank.yaml", version=3)
        assert (preview.notes, preview.cards, preview.problems) == (4, 5, ())
        names = sorted(p.name for p in tmp_path.iterdir())
        assert names == [
            "0c2951eb2d333ee8.svg",
            "44d31f0fc86e6e34.png",
            "9965ae2ea7a0d5d0.jpg",
            "e5e503bc29b0ccf1.wav",
            "index.html",
        ]
        html = (tmp_path / "index.html").read_text(encoding="utf-8")
        assert '<meta name="deckgen-version" content="3">' in html
        assert not re.search(r"<(?:script|link|img)[^>]+(?:src|href)=", html)  # all inline
        data = page_data(tmp_path / "index.html")
        assert data["source"] == "bank.yaml"
        assert data["deck"] == "Media"
        cards = data["cards"]
        assert isinstance(cards, list)
        assert [(c["id"], c["card"]) for c in cards] == [
            ("request-flow", "Question and answer"),
            ("photo", "Front to back"),
            ("photo", "Back to front"),
            ("beep", "Cloze 1"),
            ("same-picture-again", "Question and answer"),
        ]
        assert 'data-sound="e5e503bc29b0ccf1.wav"' in cards[3]["front"]

    def test_stale_media_go_and_other_files_stay(self, tmp_path: Path) -> None:
        """A new preview in the same folder removes the media it no longer shows, only those."""
        make_preview(MEDIA, tmp_path)
        (tmp_path / "notes.txt").write_text("mine")
        make_preview(KINDS, tmp_path)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html", "notes.txt"]

    def test_text_that_looks_like_html_stays_text(self, write_source: WriteSource) -> None:
        """A question about </script> cannot end the page's script."""
        source = write_source(
            "deck: {name: D, id: 12345}\ntopics:\n  - name: T\n    questions:\n"
            "      - {id: a, question: 'What does </script><script>alert(1)</script> do?', "
            "answer: '`</script>`'}\n"
        )
        preview = make_preview(source, source.parent / "preview")
        data = page_data(preview.path)
        cards = data["cards"]
        assert isinstance(cards, list)
        assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in cards[0]["front"]

    def test_refuses_a_page_it_did_not_write(self, tmp_path: Path) -> None:
        """An index.html that deckgen did not write is never replaced."""
        (tmp_path / "index.html").write_text("<h1>My site</h1>")
        with pytest.raises(PathError, match="was not written by deckgen preview"):
            make_preview(KINDS, tmp_path)
        assert (tmp_path / "index.html").read_text() == "<h1>My site</h1>"

    def test_rewrites_its_own_page(self, tmp_path: Path) -> None:
        """A page deckgen wrote is replaced by the next preview."""
        make_preview(MEDIA, tmp_path)
        preview = make_preview(KINDS, tmp_path)
        assert page_data(preview.path)["deck"] == "Kinds"

    def test_default_folder(self, tmp_path: Path) -> None:
        """Without -o, the preview goes to dist/preview under the current folder."""
        shutil.copy(KINDS, tmp_path / "bank.yaml")
        result = subprocess.run(
            [sys.executable, "-m", "deckgen", "preview", "bank.yaml"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert (result.returncode, result.stdout) == (
            0,
            "Wrote dist/preview/index.html: 6 cards of 4 notes\n",
        )
        assert (tmp_path / DEFAULT_FOLDER / "index.html").is_file()


class TestCommand:
    def test_valid_bank(self, tmp_path: Path) -> None:
        """A valid bank: the page is written and the command says so, exit 0."""
        result = CliRunner().invoke(main, ["preview", str(KINDS), "-o", str(tmp_path / "p")])
        assert result.exit_code == 0, result.output
        assert result.output == f"Wrote {tmp_path / 'p' / 'index.html'}: 6 cards of 4 notes\n"

    def test_bank_with_problems(self, tmp_path: Path) -> None:
        """Problems are printed as validate prints them, the page is still written (with
        them and the valid cards), exit 1."""
        source = tmp_path / "bank.yaml"
        shutil.copy(KINDS, source)
        source.write_text(source.read_text().replace("- id: term-gil", "- id: Term-GIL"))
        result = CliRunner().invoke(main, ["preview", str(source), "-o", str(tmp_path / "p")])
        assert result.exit_code == 1
        assert result.stdout == f"Wrote {tmp_path / 'p' / 'index.html'}: 4 cards of 3 notes\n"
        assert result.stderr == (
            f"{source}:12:13: question id 'Term-GIL' must be a lowercase slug of a-z, 0-9 and "
            "single hyphens, such as 'term-gil'\n"
            "Error: 1 problem found; the preview shows them, and the cards of the questions "
            "without one\n"
        )
        problems = page_data(tmp_path / "p" / "index.html")["problems"]
        assert problems == [
            {
                "where": f"{source}:12:13",
                "message": "question id 'Term-GIL' must be a lowercase slug of a-z, 0-9 and "
                "single hyphens, such as 'term-gil'",
                "code": "DG304 question-id",
            }
        ]

    def test_foreign_page_is_a_usage_error(self, tmp_path: Path) -> None:
        """Writing over someone else's index.html is refused before anything is written."""
        (tmp_path / "index.html").write_text("mine")
        result = CliRunner().invoke(main, ["preview", str(KINDS), "-o", str(tmp_path)])
        assert result.exit_code == 2
        assert "was not written by deckgen preview" in result.output

    def test_port_needs_serve(self, tmp_path: Path) -> None:
        """--port alone is a usage error."""
        result = CliRunner().invoke(main, ["preview", str(KINDS), "--port", "8000"])
        assert result.exit_code == 2
        assert "Error: --port needs --serve" in result.output


def test_stripping_tags_quickly_strips_what_anki_strips() -> None:
    """The search text drops tags as Anki's pattern does (comments, style and script
    elements whole); text without those takes a simpler pattern, which must agree."""
    import random

    from deckgen.preview import cloze

    rng = random.Random(3)
    parts = [
        "<b>",
        "</b>",
        "a",
        "<",
        ">",
        "<!-- c -->",
        "<style>p{}</style>",
        "<SCRIPT s>x</script>",
    ]
    parts += ["&amp;", "\n", "<br/>", "<x", "y>", "<Style>"]
    for _ in range(5_000):
        text = "".join(rng.choice(parts) for _ in range(rng.randrange(12)))
        assert cloze.strip_html_preserving_entities(text) == cloze._HTML.sub("", text), text
