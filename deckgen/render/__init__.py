"""Markdown to the HTML of a card field, with code highlighted by CSS classes.

Raw HTML in the source is never passed through: tags show as text, and a card cannot carry a
script. Parsing is pulldown-cmark's (through pyromark): CommonMark with GitHub's tables and
strikethrough, written out as deckgen's first parser (markdown-it) wrote it. Math, clozes and
media references are found by the parser, so examples of them inside code stay code. A
one-line field with no Markdown syntax at all skips the parser and is only escaped.
"""

from __future__ import annotations

import functools
import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from deckgen.render.cloze import cloze_numbers
    from deckgen.render.code import highlight_css
    from deckgen.render.media import MediaRef, media_kind
    from deckgen.render.problems import cloze_problems, find_media
    from deckgen.render.renderer import Renderer
    from deckgen.render.writer import escape

__all__ = [
    "RENDER_VERSION",
    "MediaRef",
    "Renderer",
    "cloze_numbers",
    "cloze_problems",
    "escape",
    "find_media",
    "highlight_css",
    "media_kind",
    "renderer_versions",
]

# Raised whenever deckgen deliberately changes the HTML it writes for the same source: it is
# part of every note's content hash, so a raise re-stamps every note on the next build (and
# Anki then replaces every note's tags). The move from markdown-it-pyrs to pulldown-cmark
# kept the HTML of every bank tested byte for byte, and math, clozes and media are new
# syntax, so it is still 1.
RENDER_VERSION = 1

# The distributions whose versions decide the HTML, by their names on the package index.
_LIBRARIES = ("pyromark", "Pygments")
# Where each name this package exports is defined: each module is imported when a name of it
# is first used, so that validating a bank never loads the Markdown parser or Pygments.
_LAZY = {
    "MediaRef": "media",
    "Renderer": "renderer",
    "cloze_numbers": "cloze",
    "cloze_problems": "problems",
    "escape": "writer",
    "find_media": "problems",
    "highlight_css": "code",
    "media_kind": "media",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


@functools.cache
def renderer_versions() -> dict[str, str]:
    """The installed versions of the Markdown parser and the highlighter, for the lock:
    each library's own ``__version__`` (importlib.metadata, which would find the same, takes
    longer to import than a whole rebuild takes to check its bank)."""
    versions = {}
    for name in _LIBRARIES:
        found = getattr(importlib.import_module(name.lower()), "__version__", None)
        if not isinstance(found, str):
            from importlib.metadata import version

            found = version(name)
        versions[name.lower()] = found
    return versions
