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
    by_start: dict[int, clozes.Cloze] | None = None
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
            if by_start is None:  # one reading of the run for all its clozes
                every = clozes.walk(clozes.scan(text, cap=False).clozes)
                by_start = {cloze.start: cloze for cloze in every}
            found = _whole(by_start.get(at), code)
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


def _whole(found: clozes.Cloze | None, code: tuple[tuple[int, int], ...]) -> clozes.Cloze | None:
    """The cloze, if it holds whole code spans and link targets (or none)."""
    if found is None:
        return None
    for start, end in code:
        overlaps = start < found.end and end > found.start
        if overlaps and not found.start <= start <= end <= found.end:
            return None
    return found
