"""What validation needs from the renderer: a field's media references, and what is wrong with
a cloze field (offsets in the field's text, for the checker to turn into line and column)."""

from __future__ import annotations

from deckgen.render import cloze as clozes
from deckgen.render.media import MediaRef, media_kind
from deckgen.render.parse import Layout, Parsed, layout, parse
from deckgen.render.spans import find_spans, might_have_spans
from deckgen.render.writer import safe_url

Ranges = list[tuple[int, int, str]]  # (start, end, what) in source offsets, sorted


def find_media(text: str) -> list[MediaRef]:
    """Every ``![alt](url)`` of a field that renders as an image or a sound, in order."""
    if "![" not in text:
        return []
    parsed = parse(text)
    refs = []
    for start, link in layout(parsed).images:  # none in math: math holds no link targets
        url: str = link["dest_url"]
        if safe_url(url, image=True):
            refs.append(MediaRef(url, parsed.to_source(start), media_kind(url)))
    return refs


def cloze_problems(text: str) -> list[tuple[int, str]]:
    """What would stop Anki from reading a cloze field as written: (offset, message) pairs."""
    scan = clozes.scan(text)
    every = clozes.walk(scan.clozes)
    problems = [
        (at, "'{{c' opens no cloze here: write {{c1::answer}}")
        for at in clozes.malformed_openers(text)
    ]
    problems += [(c.start, "this cloze is never closed with '}}'") for c in scan.unclosed]
    if not every and not scan.unclosed:
        problems.append((0, "no cloze deletion: mark at least one, such as {{c1::answer}}"))
    problems += _number_problems(every)
    where = _where_map(text)
    closers = {cloze.close for cloze in every}
    for cloze in every:
        problems += _cloze_problems(text, cloze, where, closers)
    for at in scan.stray_closers:
        if _where(where, at) is None:
            problems.append((at, "'}}' closes no cloze: did a '}}' in an answer end it early?"))
    return sorted(problems)


def _number_problems(every: list[clozes.Cloze]) -> list[tuple[int, str]]:
    problems: list[tuple[int, str]] = []
    first_with: dict[int, int] = {}
    for cloze in every:
        for number in cloze.numbers:
            first_with.setdefault(number, cloze.start)
            if number < 1:
                problems.append((cloze.start, f"cloze number c{number}: numbers start at c1"))
    numbers = sorted(n for n in first_with if n >= 1)
    for before, after in zip([0, *numbers], numbers, strict=False):
        if after > before + 1:
            missing = f"c{before + 1}" if after == before + 2 else f"c{before + 1}-c{after - 1}"
            message = f"cloze c{after} comes without {missing}: number them from c1 up"
            problems.append((first_with[after], message))
    return problems


def _cloze_problems(
    text: str, cloze: clozes.Cloze, where: Ranges, closers: set[int]
) -> list[tuple[int, str]]:
    problems = []
    if text.startswith("}", cloze.end) and cloze.end not in closers:
        problems.append(
            (
                cloze.close,
                "this '}}' ends the cloze before the '}' after it: "
                "put a space between an answer's last '}' and the closing '}}'",
            )
        )
    if cloze.more_colons:
        problems.append(
            (
                cloze.more_colons[0],
                "a second '::' in a cloze: Anki shows everything after the first '::' as the hint",
            )
        )
    opened, closed = _where(where, cloze.start), _where(where, cloze.close)
    crossed = opened or closed
    if crossed is not None and opened != closed:
        problems.append(
            (
                cloze.start,
                f"this cloze crosses the edge of {crossed[2]}: it must "
                "start and end both inside it or both outside it",
            )
        )
    elif opened is None:
        inside = [r for r in where if cloze.start < r[0] < cloze.close and r[2] == "a code block"]
        if inside:
            problems.append(
                (
                    cloze.start,
                    "a cloze cannot hold a code block; put clozes inside the code instead",
                )
            )
    if cloze.hint is not None and _where(where, cloze.hint) != opened:
        problems.append(
            (
                cloze.hint,
                "this '::' inside code or math splits the cloze: "
                "Anki shows everything after it as the hint",
            )
        )
    return problems


def _where_map(text: str) -> Ranges:
    """The code spans, code blocks and math of a field (source offsets), sorted."""
    parsed = parse(text)
    found = layout(parsed)
    ranges = [
        *((parsed.to_source(a), parsed.to_source(b), "a code span") for a, b in found.code_spans),
        *((parsed.to_source(a), parsed.to_source(b), "a code block") for a, b in found.code_blocks),
        *_math_ranges(parsed, found),
    ]
    return sorted(ranges)


def _math_ranges(parsed: Parsed, found: Layout) -> Ranges:
    if not might_have_spans(parsed.text, cloze=False):
        return []
    out = []
    for span in find_spans(found, cloze=False):
        start = parsed.to_source(span.run.to_parsed(span.start))
        end = parsed.to_source(span.run.to_parsed(span.end - 1) + 1)
        out.append((start, end, "math"))
    return out


def _where(ranges: Ranges, offset: int) -> tuple[int, int, str] | None:
    """The code or math that holds an offset, if any."""
    return next((r for r in ranges if r[0] <= offset < r[1]), None)
