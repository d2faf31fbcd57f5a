"""The spans of a field that Markdown must leave alone: math, and in a cloze note the clozes in
prose (their answers are rendered on their own, so no emphasis can cross their edges).

Read left to right within each inline run. Code spans bind first, as everywhere in CommonMark:
a dollar inside one is code, and math cannot hold any part of one.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Literal

from deckgen.render import cloze as clozes
from deckgen.render.math import MathFinder
from deckgen.render.parse import Layout, Run

_MATH_START = re.compile(r"\\[\s\S]|\$")
_ANY_START = re.compile(r"\\[\s\S]|\$|\{\{c[0-9]")


@dataclass(frozen=True)
class Span:
    """A math or cloze span: its run, and its start and end in the run's text."""

    kind: Literal["math", "cloze"]
    run: Run
    start: int
    end: int
    cloze: clozes.Cloze | None = None

    @property
    def text(self) -> str:
        """The span's text as written (container prefixes of later lines left out)."""
        return self.run.text[self.start : self.end]


def might_have_spans(text: str, *, cloze: bool) -> bool:
    """A quick test that saves finding runs in most fields."""
    return "$" in text or "\\(" in text or "\\[" in text or (cloze and "{{c" in text)


def find_spans(layout: Layout, *, cloze: bool) -> list[Span]:
    """Every math span, and with ``cloze`` every cloze in prose, in document order."""
    return [span for run in layout.runs for span in _run_spans(run, cloze=cloze)]


def _run_spans(run: Run, *, cloze: bool) -> list[Span]:
    text, code = run.text, run.code
    start_re = _ANY_START if cloze else _MATH_START
    spans: list[Span] = []
    math: MathFinder | None = None
    pos = next_code = 0
    while (match := start_re.search(text, pos)) is not None:
        at = match.start()
        while next_code < len(code) and code[next_code][1] <= at:
            next_code += 1
        if next_code < len(code) and code[next_code][0] <= at:
            pos = code[next_code][1]  # inside a code span: code
            continue
        token = match.group()
        if token.startswith("{{c"):
            found = _cloze_at(text, at, code)
            if found is not None:
                spans.append(Span("cloze", run, at, found.end, found))
                pos = found.end
            else:
                pos = at + 1
            continue
        end = None
        if token == "$" or token[1] in "([":
            math = math or MathFinder(text)
            end = math.end(at)
        if end is not None and not _holds_code(code, at, end):
            spans.append(Span("math", run, at, end))
            pos = end
        else:
            pos = match.end()
    return spans


def _holds_code(code: tuple[tuple[int, int], ...], start: int, end: int) -> bool:
    """Whether a code span or link target starts between ``start`` and ``end``."""
    i = bisect.bisect_right(code, (start, 1 << 62))
    return i < len(code) and code[i][0] < end


def _cloze_at(text: str, at: int, code: tuple[tuple[int, int], ...]) -> clozes.Cloze | None:
    """The cloze opened at ``at``, if it closes in this run and holds whole code spans."""
    scan = clozes.scan(text, at)
    if not scan.clozes or scan.clozes[0].start != at:
        return None
    found = scan.clozes[0]
    for start, end in code:
        overlaps = start < found.end and end > found.start
        if overlaps and not found.start <= start <= end <= found.end:
            return None
    return found
