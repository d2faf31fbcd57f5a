"""TeX math in a field: ``$...$`` and ``\\(...\\)`` inline, ``$$...$$`` and ``\\[...\\]`` as a
display, written out as MathJax's ``\\(...\\)`` and ``\\[...\\]``, which Anki typesets.

A dollar opens math only with a non-space after it, and closes it only with a non-space before
it and no digit after it (pandoc's rule), so ``$5`` and ``a $ b`` stay text. A dollar after a
backslash is a dollar. The content is escaped for HTML and otherwise left exactly as written.
"""

from __future__ import annotations

import bisect
import re

from deckgen.render.writer import escape_text

_SPACE = " \t\n\r"


class MathFinder:
    """Finds where math that starts at a given offset of a text ends. Every possible closer
    is listed once, so that a long line of openers with no closer takes linear time."""

    def __init__(self, text: str) -> None:
        self.text = text
        dollars = [m.start() for m in re.finditer(r"\$", text) if not _escaped(text, m.start())]
        self.inline = [
            at
            for at in dollars
            if at and text[at - 1] not in _SPACE and not text[at + 1 : at + 2].isdigit()
        ]
        self.display = [at for at in dollars if text.startswith("$$", at)]
        self.parens = [m.start() for m in re.finditer(r"\\\)", text)]
        self.brackets = [m.start() for m in re.finditer(r"\\\]", text)]

    def end(self, start: int) -> int | None:
        """If math starts at ``start`` (a dollar, or a backslash before '(' or '['), the
        offset just past it."""
        text = self.text
        if text[start] == "\\":
            closers = self.parens if text[start + 1] == "(" else self.brackets
            close = _first(closers, start + 3)  # not empty: '\(\)' is two escapes
            return None if close is None else close + 2
        if text.startswith("$$", start):
            close = _first(self.display, start + 3)
            return None if close is None else close + 2
        if start + 1 >= len(text) or text[start + 1] in _SPACE:
            return None
        close = _first(self.inline, start + 1)
        return None if close is None else close + 1


def _escaped(text: str, at: int) -> bool:
    """Whether an odd number of backslashes stands before ``at``."""
    before = at
    while before > 0 and text[before - 1] == "\\":
        before -= 1
    return (at - before) % 2 == 1


def _first(offsets: list[int], start: int) -> int | None:
    i = bisect.bisect_left(offsets, start)
    return offsets[i] if i < len(offsets) else None


def math_html(source: str) -> str:
    """The HTML of one piece of math as written (with its delimiters)."""
    if source.startswith("$$"):
        return f"\\[{escape_text(source[2:-2])}\\]"
    if source.startswith("$"):
        return f"\\({escape_text(source[1:-1])}\\)"
    return f"{source[:2]}{escape_text(source[2:-2])}{source[-2:]}"
