"""``deckgen preview``: every card of a bank in a browser, as Anki will show it.

The field HTML is the build's (:func:`deckgen.notes.make_notes`), the CSS the note type's;
:mod:`~deckgen.preview.template` applies the card templates as Anki's backend does and
:mod:`~deckgen.preview.reviewer` adds what Anki's reviewer adds. :mod:`~deckgen.preview.page`
writes the page, :mod:`~deckgen.preview.serve` serves it and reloads it on every save.
"""

from __future__ import annotations

from pathlib import Path

from deckgen.checker import check_deck
from deckgen.errors import shown_path
from deckgen.preview.page import PAGE, Preview, write_preview

__all__ = ["DEFAULT_FOLDER", "PAGE", "Preview", "make_preview", "write_preview"]

DEFAULT_FOLDER = Path("dist") / "preview"


def make_preview(
    source: Path, folder: Path, *, name: str | None = None, version: int = 0
) -> Preview:
    """Check ``source`` and write the preview of its valid cards and its problems."""
    shown = shown_path(source) if name is None else name
    deck, problems = check_deck(source, name=shown)
    return write_preview(folder, deck=deck, problems=problems, source=shown, version=version)
