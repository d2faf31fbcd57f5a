"""The preview page: one self-contained ``index.html`` (its script and style inline, no
network) with the media files its cards show copied beside it."""

from __future__ import annotations

import html
import json
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from deckgen.errors import BuildError, PathError, Problem
from deckgen.model import Deck
from deckgen.notetypes import KINDS
from deckgen.preview.cards import PreviewCard, card_css, kinds_used, media_files, preview_cards
from deckgen.preview.reviewer import REVIEWER_CSS

PAGE = "index.html"
GENERATOR = "deckgen preview"
# Media files the preview copied: content-addressed names, so stale ones can be removed.
_PACKED_NAME = re.compile(r"[0-9a-f]{16}\.[a-z0-9]+")


@dataclass(frozen=True)
class Preview:
    """What a preview shows."""

    path: Path  # the page
    notes: int
    cards: int
    problems: tuple[Problem, ...]
    deck: Deck | None = field(default=None, repr=False)


def _static(name: str) -> str:
    return resources.files("deckgen.preview").joinpath("static", name).read_text("utf-8")


def page_data(
    deck: Deck | None, cards: list[PreviewCard], problems: list[Problem], *, source: str
) -> dict[str, Any]:
    """Everything the page's script shows, as JSON-ready data."""
    return {
        "source": source,
        "deck": None if deck is None else deck.name,
        "topics": [] if deck is None else [{"name": t.name, "tag": t.tag} for t in deck.topics],
        "notes": 0 if deck is None else sum(1 for _ in deck.questions),
        "css": {kind: card_css(KINDS[kind]) for kind in kinds_used(cards)},
        "reviewerCss": REVIEWER_CSS,
        "cards": [card.as_json() for card in cards],
        "problems": [
            {
                "where": f"{p.file}:{p.line}:{p.column}",
                "message": p.message,
                "code": str(p.code),
            }
            for p in problems
        ],
    }


def render_page(data: dict[str, Any], *, version: int) -> str:
    """The page's HTML, with ``data`` inline for its script."""
    # JSON inside <script>: no "<" at all, so nothing in a card can end the element early.
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    title = html.escape(f"{data['deck'] or data['source']} - deckgen preview")
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="{GENERATOR}">
<meta name="deckgen-version" content="{version}">
<title>{title}</title>
<style>
{_static("preview.css")}</style>
</head>
<body>
<header id="bar">
  <h1 id="title"></h1>
  <span id="count" aria-live="polite"></span>
  <input id="search" type="search" placeholder="Search text, tag:name, id:name  ( / )"
    aria-label="Search cards" autocomplete="off" spellcheck="false">
  <div class="toggles">
    <button type="button" id="theme" aria-pressed="false" title="Anki's night mode">Night</button>
    <button type="button" id="width" aria-pressed="false" title="Phone (390 px) or desktop width"
      >Phone</button>
  </div>
  <span id="status" hidden></span>
</header>
<div id="layout">
  <nav id="topics" aria-label="Topics"></nav>
  <main id="main">
    <section id="problems" hidden></section>
    <div id="cards"></div>
    <p id="nothing" hidden>No card matches the search.</p>
  </main>
</div>
<script type="application/json" id="deck-data">{payload}</script>
<script>
{_static("preview.js")}</script>
</body>
</html>
"""


def _check_folder(folder: Path) -> None:
    """Refuse a folder whose index.html some other tool wrote: the preview replaces it."""
    page = folder / PAGE
    if folder.exists() and not folder.is_dir():
        raise PathError(f"the preview folder {folder} exists and is not a folder")
    if page.is_symlink() or (page.exists() and not page.is_file()):
        raise PathError(f"{page} exists and is not a regular file")
    if page.exists():
        with page.open("rb") as f:
            head = f.read(1024)
        if f'content="{GENERATOR}"'.encode() not in head:
            raise PathError(
                f"{page} exists and was not written by deckgen preview; "
                "choose another folder with -o"
            )


def _replace(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all: a server may be sending it while it changes."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(name, 0o644)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def _copy_media(folder: Path, media: dict[str, Path]) -> None:
    for name, source in sorted(media.items()):
        target = folder / name
        if target.is_file() and target.stat().st_size == source.stat().st_size:
            continue  # content-addressed: same name, same bytes
        _replace(target, source.read_bytes())
    for old in folder.iterdir():
        if _PACKED_NAME.fullmatch(old.name) and old.name not in media and old.is_file():
            old.unlink()


def write_preview(
    folder: Path,
    *,
    deck: Deck | None,
    problems: list[Problem],
    source: str,
    version: int = 0,
    known: Sequence[tuple[str, ...]] | None = None,
) -> Preview:
    """Write the preview of ``deck`` (the valid part of a source) and of the source's
    ``problems`` to ``folder``: ``index.html`` and the media its cards show. ``known`` has
    the fields of every note of ``deck``, when a build has just rendered them."""
    _check_folder(folder)
    cards = [] if deck is None else preview_cards(deck, known=known)
    data = page_data(deck, cards, problems, source=source)
    page = folder / PAGE
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _copy_media(folder, {} if deck is None else media_files(deck))
        _replace(page, render_page(data, version=version).encode("utf-8"))
    except OSError as e:
        raise BuildError(f"cannot write the preview in {folder}: {e.strerror or e}") from e
    notes = 0 if deck is None else sum(1 for _ in deck.questions)
    return Preview(page, notes, len(cards), tuple(problems), deck)
