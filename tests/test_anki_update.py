"""The user's story across two releases, replayed in Anki's own backend.

Import v1, study, edit one answer, build v2, import it over v1 with Anki's default options:
the edited note is updated in place, nothing is added, and study progress survives.
"""

from __future__ import annotations

from pathlib import Path

from anki.collection import Collection
from conftest import SMALL, ImportPackage

from deckgen.model import load_deck
from deckgen.package import build_package

T1 = 1_700_000_000.0
T2 = T1 + 86_400


def study(col: Collection, deck_name: str, answers: int) -> dict[int, tuple[int, int, int, int]]:
    """Answer ``answers`` cards 'Good' with Anki's scheduler; return their scheduling state."""
    col.decks.select(col.decks.id_for_name(deck_name))  # type: ignore[arg-type]
    for _ in range(answers):
        card = col.sched.getCard()
        assert card is not None
        col.sched.answerCard(card, 3)
    return schedule(col)


def schedule(col: Collection) -> dict[int, tuple[int, int, int, int]]:
    """Interval, due, queue and review count of every card that has been reviewed."""
    rows = col.db.all(
        "select c.id, c.ivl, c.due, c.queue, count(r.id) from cards c"
        " join revlog r on r.cid = c.id group by c.id"
    )
    return {cid: (ivl, due, queue, reviews) for cid, ivl, due, queue, reviews in rows}


def test_edit_updates_in_place_and_keeps_progress(
    tmp_path: Path, collection: Collection, import_package: ImportPackage
) -> None:
    """An edited answer reaches the user's note; ids, intervals and review log stay."""
    source = tmp_path / "bank.yaml"
    source.write_text(SMALL.read_text(encoding="utf-8"), encoding="utf-8")
    v1 = tmp_path / "v1.apkg"
    build_package(load_deck(source), v1, timestamp=T1)
    assert len(import_package(v1).new) == 3

    studied = study(collection, "Interview::Python Basics", answers=2)
    assert len(studied) == 2
    card_ids = sorted(collection.find_cards(""))
    (edited_nid,) = collection.find_notes("ID:for-else")

    source.write_text(
        source.read_text().replace(
            "answer: When the loop ends without `break`.",
            "answer: When the loop finishes without hitting `break`.",
        )
    )
    v2 = tmp_path / "v2.apkg"
    build_package(load_deck(source), v2, timestamp=T2)
    log = import_package(v2)

    assert (len(log.new), len(log.conflicting)) == (0, 0)
    assert edited_nid in [entry.id.nid for entry in log.updated]
    assert collection.note_count() == 3
    assert sorted(collection.find_cards("")) == card_ids
    assert collection.get_note(edited_nid)["Answer"] == (
        "<p>When the loop finishes without hitting <code>break</code>.</p>"
    )
    assert schedule(collection) == studied
