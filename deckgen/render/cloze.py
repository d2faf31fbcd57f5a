"""Cloze deletions, read the way Anki reads them: ``{{c1::answer}}`` or ``{{c1::answer::hint}}``,
nested up to ten deep; the first ``}}`` closes the innermost open cloze and the first ``::``
inside it starts the hint. Anki reads the whole field's HTML, code and math included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Anki's two tokens: an opener (``{{c`` with numbers, then ``::``) and a closer.
_TOKEN = re.compile(r"\{\{c([0-9,]*)::|\}\}")
_MALFORMED_OPENER = re.compile(r"\{\{c[0-9]")
MAX_DEPTH = 10  # Anki ignores openers deeper than this
_MAX_NUMBER = 65535  # Anki's card ordinals are 16-bit


@dataclass
class Cloze:
    """One deletion: offsets of its ``{{c``, the end of its ``::`` opener, the ``::`` that
    starts its hint (if any) and the end of its ``}}``; and any clozes nested in it."""

    start: int
    body: int
    numbers: tuple[int, ...]
    end: int = -1
    hint: int | None = None
    more_colons: list[int] = field(default_factory=list)  # later '::' (inside the hint)
    inner: list[Cloze] = field(default_factory=list)

    @property
    def close(self) -> int:
        """Offset of the closing ``}}``."""
        return self.end - 2


@dataclass
class Scan:
    """The clozes of a text (outermost first), openers never closed and stray closers."""

    clozes: list[Cloze]
    unclosed: list[Cloze]
    stray_closers: list[int]


def scan(text: str, start: int = 0, stop: int | None = None, *, cap: bool = True) -> Scan:
    """Read the clozes in ``text[start:stop]`` as Anki does (``cap=False``: without Anki's
    limit of ten levels, as plain bracket matching)."""
    stop = len(text) if stop is None else stop
    found: list[Cloze] = []
    stray: list[int] = []
    open_: list[Cloze] = []
    pos = start
    while (match := _TOKEN.search(text, pos, stop)) is not None:
        at = match.start()
        _colons(text, open_[-1] if open_ else None, pos, at)
        if match.group(1) is None:  # a closer
            pos = match.end()
            if open_:
                cloze = open_.pop()
                cloze.end = pos
                (open_[-1].inner if open_ else found).append(cloze)
            else:
                stray.append(at)
            continue
        numbers = _numbers(match.group(1))
        if not numbers:  # not an opener: Anki reads on from the next character
            pos = at + 1
            continue
        pos = match.end()
        if len(open_) < MAX_DEPTH or not cap:
            open_.append(Cloze(at, pos, numbers))
    _colons(text, open_[-1] if open_ else None, pos, stop)
    return Scan(found, open_, stray)


def _numbers(digits: str) -> tuple[int, ...]:
    parsed = {int(d) for d in digits.split(",") if d and int(d) <= _MAX_NUMBER}
    return tuple(sorted(parsed))


def _colons(text: str, cloze: Cloze | None, start: int, stop: int) -> None:
    """Record the ``::`` in a piece of a cloze's own text: the first starts the hint."""
    if cloze is None:
        return
    at = text.find("::", start, stop)
    while at >= 0:
        if cloze.hint is None:
            cloze.hint = at
        else:
            cloze.more_colons.append(at)
        at = text.find("::", at + 2, stop)


def walk(clozes: list[Cloze]) -> list[Cloze]:
    """Every cloze, nested ones included, in order of their openers."""
    out: list[Cloze] = []
    pending = list(clozes)
    while pending:  # a loop, not recursion: nesting can be as deep as the text is long
        cloze = pending.pop()
        out.append(cloze)
        pending += cloze.inner
    return sorted(out, key=lambda c: c.start)


def cloze_numbers(text: str) -> set[int]:
    """The cloze numbers Anki finds in a text (one card each)."""
    return {n for cloze in walk(scan(text).clozes) for n in cloze.numbers}


def malformed_openers(text: str) -> list[int]:
    """Offsets of ``{{c`` and a digit that open no cloze (``{{c1:x}}``, ``{{c1 ::x}}``)."""
    out = []
    for match in _MALFORMED_OPENER.finditer(text):
        token = _TOKEN.match(text, match.start())
        if token is None or not _numbers(token.group(1) or ""):
            out.append(match.start())
    return out


def strip_markers(code: str) -> tuple[str, list[tuple[int, str]]]:
    """Code without its cloze markers, and each marker with its offset in that code, so that
    the code can be highlighted and the markers put back between the highlighted tokens."""
    cuts: list[tuple[int, int]] = []
    for cloze in walk(scan(code).clozes):
        cuts.append((cloze.start, cloze.body))
        cuts.append((cloze.hint if cloze.hint is not None else cloze.close, cloze.end))
    cuts.sort()
    kept: list[str] = []
    markers: list[tuple[int, str]] = []
    last = length = 0
    for start, stop in cuts:
        if start < last:  # a marker inside a hint: it stays with the hint
            continue
        kept.append(code[last:start])
        length += start - last
        markers.append((length, code[start:stop]))
        last = stop
    kept.append(code[last:])
    return "".join(kept), markers
