"""Images and sounds: found, checked, packed under content names, and imported by Anki."""

from __future__ import annotations

import json
import shutil
import time
import zipfile
from pathlib import Path

import pytest
from anki.collection import Collection
from click.testing import CliRunner
from conftest import DATA, ImportPackage

from deckgen.build import build
from deckgen.checker import load_deck
from deckgen.cli import main
from deckgen.render import find_media

T1, T2 = 1_700_000_000, 1_700_086_400


@pytest.fixture
def bank(tmp_path: Path) -> Path:
    """A copy of tests/data/media (bank.yaml, img/, sounds/) that builds may change."""
    shutil.copytree(DATA / "media", tmp_path / "media")
    return tmp_path / "media" / "bank.yaml"


class TestFind:
    @pytest.mark.parametrize(
        ("text", "urls"),
        [
            ("![a](x.png)", ["x.png"]),
            ('See ![a](x.png "title") and ![b](<y z.jpg>)', ["x.png", "y z.jpg"]),
            ("`![a](x.png)` is code", []),
            ("```\n![a](x.png)\n```\n![b](y.png)", ["y.png"]),
            ("[a link](x.png) is not an image", []),
        ],
    )
    def test_references_outside_code(self, text: str, urls: list[str]) -> None:
        """Only image syntax outside code counts."""
        assert [ref.url for ref in find_media(text)] == urls


class TestPackage:
    def test_files_packed_under_content_names(self, bank: Path) -> None:
        """Each file is packed once, named by its content; the media map lists them."""
        result = build(bank, output=bank.with_suffix(".apkg"), now=T1)
        with zipfile.ZipFile(result.path) as archive:
            media = json.loads(archive.read("media"))
            packed = {name: archive.read(number) for number, name in media.items()}
        originals = {
            "flow.png": (bank.parent / "img" / "flow.png").read_bytes(),
            "wide.svg": (bank.parent / "img" / "wide.svg").read_bytes(),
            "photo.jpg": (bank.parent / "img" / "photo.jpg").read_bytes(),
            "beep.wav": (bank.parent / "sounds" / "beep.wav").read_bytes(),
        }
        assert sorted(packed.values()) == sorted(originals.values())
        assert all(len(name.split(".")[0]) == 16 for name in packed)

    def test_anki_stores_and_shows_them(
        self, bank: Path, collection: Collection, import_package: ImportPackage
    ) -> None:
        """Anki puts every file in its media folder and the cards reference them; the
        sound is a sound tag Anki plays."""
        import_package(build(bank, output=bank.with_suffix(".apkg"), now=T1).path)
        folder = Path(collection.media.dir())
        stored = {p.name for p in folder.iterdir()}
        assert len(stored) == 4
        (cid,) = collection.find_cards("ID:request-flow")
        card = collection.get_card(cid)
        referenced = {name for name in stored if name in card.answer()}
        assert {Path(n).suffix for n in referenced} == {".png", ".svg"}
        assert "img/none.png" in card.answer()  # in code: shown as text, not packed
        (beep,) = collection.find_cards("ID:beep")
        tags = collection.get_card(beep).question_av_tags()
        assert [Path(tag.filename).suffix for tag in tags] == [".wav"]  # type: ignore[attr-defined]
        assert collection.media.check().missing == []

    def test_changed_image_updates_exactly_its_notes(
        self, bank: Path, collection: Collection, import_package: ImportPackage
    ) -> None:
        """Swapping an image's bytes changes the notes that show it, under a new file name
        that reaches users who have the old one; other notes keep their mod."""
        first = build(bank, output=bank.with_suffix(".apkg"), now=T1)
        import_package(first.path)
        (bank.parent / "img" / "flow.png").write_bytes(
            (bank.parent / "img" / "flow.png").read_bytes() + b"\0"
        )
        second = build(bank, output=bank.with_suffix(".apkg"), now=T2)
        assert second.release.changed == ("request-flow", "same-picture-again")
        log = import_package(second.path)
        assert len(log.updated) == 2
        assert len(list(Path(collection.media.dir()).iterdir())) == 5


class TestStats:
    def test_counts_media(self, bank: Path) -> None:
        """deckgen stats counts the images and sounds once each."""
        result = CliRunner().invoke(main, ["stats", str(bank), "--json"])
        assert result.exit_code == 0, result.output
        media = json.loads(result.output)["media"]
        assert (media["images"], media["sounds"]) == (3, 1)

    def test_remote_media_allowed_on_request(self, bank: Path) -> None:
        """With allow_remote_media, a web image is left as a link."""
        text = bank.read_text().replace(
            "id: 2059400193", "id: 2059400193\n  allow_remote_media: true"
        )
        bank.write_text(text.replace("img/flow.png)", "https://example.org/flow.png)", 1))
        deck = load_deck(bank)
        first = next(q for _, q in deck.questions)
        assert list(first.media) == ["img/wide.svg"]


class TestSecondRelease:
    def test_edit_cloze_swap_image_add_reversed(
        self, bank: Path, collection: Collection, import_package: ImportPackage
    ) -> None:
        """A release that edits one cloze, swaps one image and adds a reversed question
        updates exactly the notes those touch, adds one note with two cards, and keeps every
        review and every local tag elsewhere."""
        import_package(build(bank, output=bank.with_suffix(".apkg"), now=T1).path)
        collection.tags.bulk_add(collection.find_notes(""), "mine")
        collection.decks.select(collection.decks.id_for_name("Media"))  # type: ignore[arg-type]
        for _ in range(3):
            card = collection.sched.getCard()
            assert card is not None
            collection.sched.answerCard(card, 3)
        reviewed = collection.db.all("select id, ivl, due, reps from cards where reps > 0")
        text = bank.read_text().replace("A {{c1::beep}} sounds", "A {{c1::beep}} is heard")
        bank.write_text(
            text
            + "      - id: term-svg\n        kind: reversed\n"
            + "        front: SVG\n        back: Scalable Vector Graphics\n"
        )
        flow = bank.parent / "img" / "flow.png"
        flow.write_bytes(flow.read_bytes() + b"\0")
        # Tagging and studying stamped the notes with the clock: the release comes later.
        later = int(time.time()) + 60
        release = build(bank, output=bank.with_suffix(".apkg"), now=later).release
        assert set(release.changed) == {"beep", "request-flow", "same-picture-again"}
        log = import_package(bank.with_suffix(".apkg"))
        assert (len(log.new), len(log.updated), len(log.conflicting)) == (1, 3, 0)
        assert len(collection.find_cards("ID:term-svg")) == 2
        assert (
            collection.db.all(
                "select id, ivl, due, reps from cards where id in "
                f"({','.join(str(row[0]) for row in reviewed)})"
            )
            == reviewed
        )
        (photo,) = collection.find_notes("ID:photo")
        assert "mine" in collection.get_note(photo).tags
        (beep,) = collection.find_notes("ID:beep")
        assert "is heard" in collection.get_note(beep)["Text"]
