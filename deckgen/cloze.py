"""Cloze deletions as Anki reads them: ``{{c1::answer}}`` or ``{{c1::answer::hint}}``,
nested or not."""

from __future__ import annotations

import re

_OPEN_RE = re.compile(r"\{\{c(\d+)::")
_TOKEN_RE = re.compile(r"\{\{c(\d*)(::)?|\}\}")


def cloze_numbers(text: str) -> set[int]:
    """The cloze numbers ``text`` uses."""
    return {int(n) for n in _OPEN_RE.findall(text)}


def cloze_problems(text: str) -> list[tuple[int, str]]:
    """What keeps Anki from showing ``text``'s clozes as meant, each with its offset: no
    deletion at all, a malformed or unclosed one, a number below 1, a gap in the numbering."""
    problems: list[tuple[int, str]] = []
    open_at: list[tuple[int, str]] = []
    for token in _TOKEN_RE.finditer(text):
        if token.group(0) == "}}":
            if open_at:
                open_at.pop()
        elif not token.group(1) or not token.group(2):
            message = "a cloze is written {{c1::answer}}: 'c', a number, then '::'"
            problems.append((token.start(), message))
        else:
            open_at.append((token.start(), token.group(1)))
    problems += [(at, f"cloze c{n} is not closed with '}}}}'") for at, n in open_at]
    numbers = sorted(cloze_numbers(text))
    if not numbers:
        return problems or [(0, "a cloze question needs a deletion, such as {{c1::answer}}")]
    if numbers[0] < 1:
        problems.append((text.index(f"{{{{c{numbers[0]}::"), "cloze numbers start at c1"))
    missing = sorted(set(range(1, numbers[-1] + 1)) - set(numbers))
    if missing:
        gaps = ", ".join(f"c{n}" for n in missing)
        at = text.rindex(f"{{{{c{numbers[-1]}::")
        problems.append(
            (at, f"cloze c{numbers[-1]} is used but {gaps} is not: number them 1, 2, 3")
        )
    return problems
