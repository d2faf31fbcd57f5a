"""Tests for deckgen.diff: release notes between two releases."""

from __future__ import annotations

import os
import sqlite3
import zipfile
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from anki.collection import Collection, ExportAnkiPackageOptions
from click.testing import CliRunner
from conftest import ImportPackage, build_apkg

from deckgen.checker import load_deck
from deckgen.cli import main
from deckgen.diff import NoteView, load_snapshot, release_notes
from deckgen.errors import DeckgenError


def edit(source: Path, *replacements: tuple[str, str], append: str = "") -> Path:
    text = source.read_text()
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    out = source.with_name("v2.yaml")
    out.write_text(text + append)
    return out


@pytest.fixture
def v2(small_copy: Path) -> Path:
    """Small bank with one edit, one retirement, one removal and one addition."""
    text = small_copy.read_text()
    text = text[: text.index("  - name: Control Flow")]
    out = small_copy.with_name("v2.yaml")
    out.write_text(
        text.replace("Mention hashability.", "Hash it.").replace(
            "      - id: html-in-answer\n", "      - id: html-in-answer\n        retired: true\n"
        )
        + "      - id: sets\n        question: What is a `set`?\n        answer: Unique items.\n"
    )
    return out


def test_sources(small_copy: Path, v2: Path) -> None:
    """Each kind of change is listed with the question id and text."""
    notes = release_notes(load_snapshot(small_copy), load_snapshot(v2))
    assert notes == (
        "## Interview::Python Basics\n"
        "\n"
        "1 added, 1 changed, 1 retired, 1 removed.\n"
        "\n"
        "### Added\n"
        "\n"
        "- `sets`: What is a `set`?\n"
        "\n"
        "### Changed\n"
        "\n"
        "- `list-vs-tuple`: How does a `list` differ from a `tuple`? (How to answer)\n"
        "\n"
        "### Retired\n"
        "\n"
        "These cards stay in your collection with the tag `interview-python-basics::retired`;"
        " search for it to suspend them.\n"
        "\n"
        "- `html-in-answer`: What does &lt;b&gt;bold&lt;/b&gt; look like?\n"
        "\n"
        "### Removed\n"
        "\n"
        "Importing cannot delete notes: these cards stay in your collection until you delete"
        " them.\n"
        "\n"
        "- `for-else`: When does the `else` of a `for` loop run?\n"
        "\n"
        "### Note types\n"
        "\n"
        "- `basic`: Unchanged.\n"
    )


def test_packages_read_like_sources(small_copy: Path, v2: Path, tmp_path: Path) -> None:
    """Built packages give the same release notes as their sources."""
    old = build_apkg(load_deck(small_copy), tmp_path / "old.apkg", mod=1)
    new = build_apkg(load_deck(v2), tmp_path / "new.apkg", mod=2)
    from_packages = release_notes(load_snapshot(old), load_snapshot(new))
    assert from_packages == release_notes(load_snapshot(small_copy), load_snapshot(v2))


def test_tag_only_change(small_copy: Path) -> None:
    """A change of tags alone is listed as a tags change."""
    new = edit(small_copy, ("tags: [containers]", "tags: [containers, sequences]"))
    notes = release_notes(load_snapshot(small_copy), load_snapshot(new))
    assert "- `list-vs-tuple`: How does a `list` differ from a `tuple`? (tags)" in notes


def test_no_changes(small_copy: Path) -> None:
    """Identical releases say so."""
    snapshot = load_snapshot(small_copy)
    assert "0 added, 0 changed, 0 retired, 0 removed." in release_notes(snapshot, snapshot)


def test_not_a_package(tmp_path: Path) -> None:
    """A zip that is not an Anki package is a DeckgenError."""
    path = tmp_path / "other.apkg"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(DeckgenError, match="not an Anki package"):
        load_snapshot(path)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"style": "other"}, "Templates or styling changed; Anki updates them in place"),
        ({"fields": ("Front", "Back")}, 'Import this release with "Merge note types" checked'),
    ],
)
def test_note_type_changes(small_copy: Path, change: dict[str, object], expected: str) -> None:
    """A note type change is explained in terms of what the user must do."""
    from dataclasses import replace

    new = load_snapshot(small_copy)
    basic = replace(new.note_types["basic"], **change)  # type: ignore[arg-type]
    old = replace(new, note_types={"basic": basic})
    assert expected in release_notes(old, new)


ADDED_NOTES = """
      - id: cloze-in-prose
        kind: cloze
        text: "`from fastapi import {{c1::Depends::a name}}` declares a {{c2::dependency}}."
      - id: cloze-in-code
        kind: cloze
        text: |
          ```python
          from fastapi import FastAPI

          app = FastAPI()

          @app.post("/items", {{c1::status_code}}=201)
          def create_item():
              return {}
          ```
      - id: lead-and-code
        kind: cloze
        text: |
          Grouping operations in the docs:

          ```python
          @app.get("/users", {{c1::tags}}=["users"])
          ```
      - id: long-question
        question: "A question as long as this one runs past one line of the release notes; is it \\
          ever cut inside `a code span that straddles the limit` or not?"
        answer: At a space.
"""


class TestTitles:
    """Each note is listed under a short, readable title: the first field as one line."""

    def titles(self, small_copy: Path) -> dict[str, str]:
        new = edit(small_copy, append=ADDED_NOTES)
        notes = release_notes(load_snapshot(small_copy), load_snapshot(new))
        lines = [line for line in notes.splitlines() if line.startswith("- `")]
        return dict(line[3:].split("`: ", 1) for line in lines)

    def test_clozes_show_their_answers(self, small_copy: Path) -> None:
        """Cloze markers and hints are gone; the answers read as the sentence."""
        title = self.titles(small_copy)["cloze-in-prose"]
        assert title == "`from fastapi import Depends` declares a dependency."

    def test_code_blocks_are_left_out(self, small_copy: Path) -> None:
        """A lead-in stands for its code block, without its trailing colon."""
        assert self.titles(small_copy)["lead-and-code"] == "Grouping operations in the docs"

    def test_code_alone_gives_its_cloze_line(self, small_copy: Path) -> None:
        """A question that is only code is shown as the line holding its first cloze."""
        title = self.titles(small_copy)["cloze-in-code"]
        assert title == '`@app.post("/items", status_code=201)`'

    def test_long_titles_are_cut_at_a_space_outside_code(self, small_copy: Path) -> None:
        """A long question ends in an ellipsis, with no word or code span cut in two."""
        assert self.titles(small_copy)["long-question"] == (
            "A question as long as this one runs past one line of the release notes; is it ever "
            "cut inside …"
        )

    def test_one_long_code_span_is_cut_inside_and_closed(self) -> None:
        """A code span longer than a title is cut in the middle, and still closed."""
        title = NoteView("x", {"Front": f"<p><code>{'a' * 300}</code></p>"}, frozenset(), False)
        assert title.title == f"`{'a' * 96}…`"

    @pytest.mark.parametrize(
        "hostile", ["<" * 30_000, "<code>" * 10_000, "{{c1::" * 10_000, "<pre" * 10_000]
    )
    def test_hostile_fields_give_a_bounded_title(self, hostile: str) -> None:
        """Unclosed tags, code spans, clozes and code blocks cost little and stay short."""
        title = NoteView("x", {"Front": hostile}, frozenset(), False).title
        assert 0 < len(title) <= 100


def rebuild(
    apkg: Path, out: Path, *, sql: str = "", entries: dict[str, bytes] | None = None
) -> Path:
    """A copy of ``apkg`` whose collection ran ``sql`` and whose zip has ``entries`` added
    or replaced."""
    with zipfile.ZipFile(apkg) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    if sql:
        db_path = out.with_suffix(".db")
        db_path.write_bytes(files["collection.anki2"])
        with closing(sqlite3.connect(db_path)) as db:
            db.executescript(sql)
        files["collection.anki2"] = db_path.read_bytes()
    files |= entries or {}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out


def patch_entry(path: Path, name: str, *, flags: int = 0, method: int | None = None) -> Path:
    """Set general-purpose ``flags`` bits and the compression ``method`` of entry ``name`` in
    both of its zip headers, as a crafted archive would have them."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        local = archive.getinfo(name).header_offset
    central = data.index(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len(name)] != name.encode():
        central = data.index(b"PK\x01\x02", central + 4)
    for flag_at, method_at in ((local + 6, local + 8), (central + 8, central + 10)):
        data[flag_at] |= flags
        if method is not None:
            data[method_at : method_at + 2] = method.to_bytes(2, "little")
    path.write_bytes(bytes(data))
    return path


class TestHostilePackages:
    """A corrupt or hostile package is a clear error with exit 1: never a traceback, never
    unbounded memory."""

    @pytest.fixture
    def apkg(self, small_copy: Path, tmp_path: Path) -> Path:
        return build_apkg(load_deck(small_copy), tmp_path / "good.apkg", mod=1)

    def diff_error(self, path: Path) -> str:
        result = CliRunner().invoke(main, ["diff", str(path), str(path)])
        assert result.exit_code == 1, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "Traceback" not in result.output
        assert result.stdout == ""
        return result.stderr.removeprefix("Error: ").rstrip("\n").replace(str(path), "P")

    @pytest.mark.parametrize(
        ("sql", "message"),
        [
            ("UPDATE col SET models = '{not json'", "P: its note types are not valid JSON"),
            (
                "UPDATE col SET models = '[' || printf('%.10000c', '[')",
                "P: its note types are not valid JSON",
            ),
            ("UPDATE col SET models = X'00ff'", "P: its note types are not text"),
            (
                "UPDATE col SET models = json_remove(models, '$.1733046101.flds')",
                "P: the deckgen note type 'deckgen Q&A' has no 'flds' of the right type",
            ),
            (
                "UPDATE col SET models = json_set(models, '$.1733046101.flds[0].name', 7)",
                "P: a field of the deckgen note type 'deckgen Q&A' has no 'name' of the right type",
            ),
            (
                "UPDATE col SET models = json_set(models, '$.1733046101.mod', 'soon')",
                "P: the deckgen note type 'deckgen Q&A' has no 'mod' of the right type",
            ),
            (
                "UPDATE col SET models = '[]'",
                "P was not built by deckgen: it has no deckgen note type",
            ),
            (
                "UPDATE col SET decks = json_remove(decks, '$.2059400191.name')",
                "P: a deck has no 'name' of the right type",
            ),
            ("UPDATE col SET decks = '7'", "P: its decks are not a JSON object"),
            ("DELETE FROM col", "P: its collection has no 'col' row"),
            (
                "UPDATE notes SET flds = X'0001ff' WHERE id = (SELECT min(id) FROM notes)",
                "P: note 'VERBATIM' holds binary or numeric data where its GUID, fields and "
                "tags should be text",
            ),
            (
                "ALTER TABLE notes RENAME TO n; CREATE VIEW notes AS WITH RECURSIVE c(x) AS "
                "(SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x AS guid, x AS mid, x AS flds,"
                " x AS tags FROM c",
                "P: its collection has no 'col' and 'notes' tables",
            ),
        ],
    )
    def test_corrupt_collection(self, apkg: Path, tmp_path: Path, sql: str, message: str) -> None:
        """Bad JSON, missing or mistyped keys, binary fields and views are each named."""
        bad = rebuild(apkg, tmp_path / "bad.apkg", sql=sql)
        if "VERBATIM" in message:
            with closing(sqlite3.connect(bad.with_suffix(".db"))) as db:
                (guid,) = db.execute("SELECT guid FROM notes ORDER BY id LIMIT 1").fetchone()
            message = message.replace("VERBATIM", guid)
        assert self.diff_error(bad) == message

    def test_encrypted(self, apkg: Path) -> None:
        """An encrypted collection is refused before zipfile asks for a password."""
        patch_entry(apkg, "collection.anki2", flags=0x1)
        assert self.diff_error(apkg) == "P: its collection is encrypted"

    def test_zstd_entry(self, apkg: Path) -> None:
        """A zip entry compressed with zstd (method 93) is named."""
        patch_entry(apkg, "collection.anki2", method=93)
        assert self.diff_error(apkg) == (
            "P: its collection is compressed with zstd, which deckgen diff cannot read; P may "
            "be an Anki 2.1.50+ package (zstd-compressed collection.anki21b), which deckgen "
            "diff cannot read; export it again from Anki with 'Support older Anki versions' "
            "checked"
        )

    @pytest.mark.parametrize(
        "entries",
        [
            {"collection.anki21b": b"\x28\xb5\x2f\xfd" + bytes(20)},
            {"meta": b"\x08\x03"},
            {"collection.anki2": b"\x28\xb5\x2f\xfd" + bytes(20)},
        ],
    )
    def test_newer_anki_format_is_named(
        self, apkg: Path, tmp_path: Path, entries: dict[str, bytes]
    ) -> None:
        """Anki's current format is recognised and named, with what to do instead."""
        assert self.diff_error(rebuild(apkg, tmp_path / "new.apkg", entries=entries)) == (
            "P is an Anki 2.1.50+ package (zstd-compressed collection.anki21b), which deckgen "
            "diff cannot read; export it again from Anki with 'Support older Anki versions' "
            "checked"
        )

    def test_zip_bomb_is_refused_before_inflating(self, apkg: Path, tmp_path: Path) -> None:
        """A collection that would inflate more than 100 times is refused from its header."""
        bomb = rebuild(apkg, tmp_path / "bomb.apkg", entries={"collection.anki2": bytes(8 << 20)})
        assert self.diff_error(bomb).startswith(
            "P: its collection would inflate 8,"  # 8 MiB of zeros deflate to ~8 KiB
        )

    def test_declared_size_over_the_limit(self, apkg: Path) -> None:
        """A collection declaring more than the limit is refused before inflating."""
        data = bytearray(apkg.read_bytes())
        central = data.index(b"PK\x01\x02")
        data[central + 24 : central + 28] = (0xF0000000).to_bytes(4, "little")
        apkg.write_bytes(bytes(data))
        assert self.diff_error(apkg) == (
            "P: its collection is 4,026,531,840 bytes, more than the limit of 536,870,912"
        )

    def test_huge_central_directory(self, apkg: Path) -> None:
        """A zip claiming a huge directory is refused before zipfile reads it into memory."""
        data = bytearray(apkg.read_bytes())
        end = data.rindex(b"PK\x05\x06")
        data[end + 12 : end + 16] = (0x7FFFFFFF).to_bytes(4, "little")
        apkg.write_bytes(bytes(data))
        assert self.diff_error(apkg) == (
            "P holds 2 files in a directory of 2,147,483,647 bytes, more than the limit of "
            "100,000 files"
        )

    @pytest.mark.parametrize(
        ("damage", "message"),
        [
            (
                lambda b: b[: len(b) // 2],
                "P is not a readable Anki package: File is not a zip file",
            ),
            (
                lambda b: b"PK\x03\x04" + bytes(100),
                "P is not a readable Anki package: File is not a zip file",
            ),
            (lambda b: b"not a zip", "P is not an Anki package: it is not a zip archive"),
        ],
    )
    def test_damaged_archive(
        self, apkg: Path, damage: Callable[[bytes], bytes], message: str
    ) -> None:
        """A truncated or foreign file with the .apkg suffix is an error, not a source."""
        apkg.write_bytes(damage(apkg.read_bytes()))
        assert self.diff_error(apkg) == message

    def test_no_collection(self, tmp_path: Path) -> None:
        """A zip without a collection is not an Anki package."""
        path = tmp_path / "other.apkg"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("hello.txt", "hi")
        assert self.diff_error(path) == "P is not an Anki package: it holds no collection"

    def test_not_sqlite(self, apkg: Path, tmp_path: Path) -> None:
        """A collection that is not SQLite is named."""
        bad = rebuild(apkg, tmp_path / "bad.apkg", entries={"collection.anki2": b"x" * 100})
        assert self.diff_error(bad) == "P: its collection is not an SQLite database"

    def test_runaway_query_and_huge_values_stop(
        self, apkg: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """SQLite stops after a bounded number of steps and refuses values over the limit."""
        from deckgen import apkg as reader

        monkeypatch.setattr(reader, "MAX_SQLITE_VALUE_BYTES", 100)
        assert self.diff_error(apkg) == ("P: cannot read its collection: string or blob too big")
        monkeypatch.undo()
        monkeypatch.setattr(reader, "_STEPS_PER_CHECK", 1)
        monkeypatch.setattr(reader, "MAX_SQLITE_STEPS", 0)
        assert self.diff_error(apkg).startswith("P: cannot read its collection: interrupted")

    def test_fifo_is_refused_without_blocking(self, tmp_path: Path) -> None:
        """A FIFO named as a release is refused at once."""
        fifo = tmp_path / "release.apkg"
        os.mkfifo(fifo)
        assert (
            self.diff_error(fifo) == "cannot read P: it is a FIFO (named pipe), not a regular file"
        )


class TestAnkiExports:
    """Packages exported by Anki itself, after importing a deckgen release."""

    def test_legacy_export_reads_like_the_release(
        self,
        small_copy: Path,
        tmp_path: Path,
        collection: Collection,
        import_package: ImportPackage,
    ) -> None:
        """'Support older Anki versions' puts the collection in collection.anki21, beside a
        placeholder collection.anki2; diff reads the real one."""
        release = build_apkg(load_deck(small_copy), tmp_path / "release.apkg", mod=1)
        import_package(release)
        exported = export(collection, tmp_path / "legacy.apkg", legacy=True)
        with zipfile.ZipFile(exported) as archive:
            assert {"collection.anki21", "collection.anki2"} <= set(archive.namelist())
        notes = release_notes(load_snapshot(release), load_snapshot(exported))
        assert "0 added, 0 changed, 0 retired, 0 removed." in notes

    def test_current_export_is_named(
        self,
        small_copy: Path,
        tmp_path: Path,
        collection: Collection,
        import_package: ImportPackage,
    ) -> None:
        """Anki's current format gives an error that says how to export instead."""
        import_package(build_apkg(load_deck(small_copy), tmp_path / "release.apkg", mod=1))
        exported = export(collection, tmp_path / "current.apkg", legacy=False)
        with pytest.raises(DeckgenError, match="export it again from Anki with 'Support older"):
            load_snapshot(exported)


def export(collection: Collection, out: Path, *, legacy: bool) -> Path:
    options = ExportAnkiPackageOptions(
        with_scheduling=False, with_deck_configs=False, with_media=False, legacy=legacy
    )
    collection.export_anki_package(out_path=str(out), options=options, limit=None)
    return out


class TestTitleShapes:
    """A release-notes line must read well whatever the card holds."""

    def view(self, first_field: str) -> str:
        from deckgen.diff import NoteView

        return NoteView("q", {"Text": first_field}, frozenset(), False).title

    def test_cloze_shows_its_answer(self) -> None:
        """Deletions read as their answers, hints left out."""
        assert self.view("<p>Use {{c1::<code>Depends</code>::what?}} here.</p>") == (
            "Use `Depends` here."
        )

    def test_code_only_card_shows_its_cloze_line(self) -> None:
        """A card that is all code is named by the line that holds its deletion."""
        block = (
            '<pre class="highlight"><code>from fastapi import FastAPI\n'
            'app = FastAPI()\n@app.post("/items", {{c1::status_code}}=201)\n</code></pre>'
        )
        assert self.view(block) == '`@app.post("/items", status_code=201)`'

    def test_prose_before_code_and_long_titles(self) -> None:
        """Code blocks are left out of a title with prose, and a long title is cut."""
        assert self.view("<p>Short:</p><pre><code>x = 1\n</code></pre>") == "Short"
        long = self.view("<p>" + "word " * 60 + "</p>")
        assert len(long) <= 120
        assert long.endswith("…")
