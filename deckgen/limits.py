"""The limits that keep every run bounded in time and memory, whatever the input.

Each limit is generous for a real bank: a code-heavy bank of a million questions (1.8 GB,
about 13 million YAML values) passes them all. They exist so that a hostile or broken file
ends in a located error instead of a hang, a crash or a machine out of memory. The README
lists them ("Limits").
"""

from __future__ import annotations

import re

from deckgen.errors import DeckgenError

# One source file, in bytes, as read from disk.
MAX_SOURCE_BYTES = 2 * 1024 * 1024 * 1024
# YAML nodes (every scalar, list and mapping) in one source: each costs a few hundred bytes
# once composed, so the byte limit alone would let a file of "[a,a,a,...]" take gigabytes.
MAX_YAML_NODES = 20_000_000
# Characters in one text value: a question, an answer, a name, a tag.
MAX_TEXT_CHARS = 64 * 1024
# Characters of text in the whole bank, counting a value reached through an alias (*name)
# every time it is used: aliases cannot make a bank cost more than the largest source.
MAX_BANK_CHARS = MAX_SOURCE_BYTES
# Block quotes and lists nested in one Markdown text.
MAX_MARKDOWN_DEPTH = 20
# Problems listed for one source; past this many, the checker stops.
MAX_PROBLEMS = 1_000
# The render cache in the user's cache folder (see deckgen.rendercache): the entries used least
# recently are dropped past this size.
MAX_CACHE_BYTES = 1024 * 1024 * 1024
# SOURCE_DATE_EPOCH, and so every note's modification time: 1970 to the end of 9999 (UTC).
# Anki shows these as dates, and note ids are derived from them times 1000 (64-bit).
MIN_EPOCH, MAX_EPOCH = 0, 253_402_300_799

# What `deckgen diff` reads of a package (.apkg): the collection inside is streamed to a
# temporary file, never held in memory, and refused before inflating when its declared size
# or compression ratio is out of bounds (a "zip bomb").
MAX_PACKAGE_ENTRIES = 100_000
MAX_ZIP_DIRECTORY_BYTES = 32 * 1024 * 1024  # zipfile reads all of it into memory at once
MAX_COLLECTION_BYTES = 512 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
RATIO_MIN_BYTES = 1024 * 1024  # below this size an entry cannot be a bomb, however it inflates
MAX_SQLITE_VALUE_BYTES = 64 * 1024 * 1024  # one value: a note's fields, the note types
MAX_PACKAGE_NOTES = 500_000
MAX_SQLITE_STEPS = 1_000_000_000  # a real collection needs far fewer

_EPOCH_RE = re.compile(r"[0-9]{1,20}")


def parse_epoch(value: str, *, name: str = "SOURCE_DATE_EPOCH") -> int:
    """``value`` as whole seconds since 1970 within [MIN_EPOCH, MAX_EPOCH], or a
    :class:`DeckgenError` naming ``name``."""
    # ASCII digits only: int() would also take "1_000", " 12 " and other scripts' digits,
    # and raises on more than 4,300 digits.
    stripped = value.strip()
    if not _EPOCH_RE.fullmatch(stripped):
        raise DeckgenError(
            f"{name} must be a whole number of seconds since 1970, not {_shorten(value)}"
        )
    seconds = int(stripped)
    if not MIN_EPOCH <= seconds <= MAX_EPOCH:
        raise DeckgenError(
            f"{name} must be between {MIN_EPOCH} and {MAX_EPOCH} (the end of the year 9999), "
            f"not {_shorten(value)}"
        )
    return seconds


# A line that might open containers nested deeper than the limit: its run of marker and
# indentation characters is long enough. One tab can stand for two levels (4 columns), so
# half the limit is the shortest such run. Most fields have no such line and skip the scan.
# (A literal newline lets the regex engine jump from line to line; '^' with re.M is 4x slower.)
_CANDIDATE_RUN = rf"[ \t>*+\-0-9.)]{{{MAX_MARKDOWN_DEPTH // 2}}}"
_FIRST_LINE_CANDIDATE_RE = re.compile(_CANDIDATE_RUN)
_LATER_LINE_CANDIDATE_RE = re.compile(rf"\n{_CANDIDATE_RUN}")
# A container marker with the indentation before it: a block quote's '>' with its optional
# space, or a list item's bullet or number, which needs whitespace or the line's end after it.
# Other whitespace is left for the next match, so that it counts as indentation.
_MARKER_RE = re.compile(r"[ \t]*(?:>|(?:[-+*]|[0-9]{1,9}[.)])(?=[ \t]|$)) ?")
# A fenced code block at the top level: only a fence in the first column is sure to be there
# (in a list item it would be indented). A backtick fence's info string has no backtick.
_FENCE_RE = re.compile(r"`{3,}(?=[^`]*$)|~{3,}")


def markdown_depth(text: str) -> int:
    """An upper bound of how deeply block quotes and lists nest in Markdown ``text``; exact
    enough to compare with :data:`MAX_MARKDOWN_DEPTH`, and 0 for text that cannot reach it.

    A line that opens a container shows every container it is in: a ``>`` for each block
    quote, and at least two columns of indentation for each list item whose marker stood on
    an earlier line. So markers plus half the other indentation bounds the depth.
    """
    if not (_FIRST_LINE_CANDIDATE_RE.match(text) or _LATER_LINE_CANDIDATE_RE.search(text)):
        return 0
    deepest = 0
    fence = ""
    for line in text.split("\n"):
        if fence:
            # Inside a fenced code block at the top level, which only its closing fence ends.
            # (A line taken for a closing fence too early only makes the bound larger.)
            if line.lstrip(" ").startswith(fence) and not line.strip().strip(fence[0]):
                fence = ""
            continue
        if opened := _FENCE_RE.match(line):
            fence = opened.group()
            continue
        deepest = max(deepest, _line_depth(line))
    return deepest


def _line_depth(line: str) -> int:
    markers = 0
    spaces = 0
    position = 0
    while marker := _MARKER_RE.match(line, position):
        token = marker.group()
        body = token.lstrip(" \t")
        spaces += _columns(token[: len(token) - len(body)])
        markers += 1
        position = marker.end()
    return markers + spaces // 2 if markers else 0


def _columns(whitespace: str) -> int:
    # A tab counts as the most it can stand for, so that the bound never falls short.
    return len(whitespace) + 3 * whitespace.count("\t")


def _shorten(value: str, width: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= width else f"{text[: width - 5]}...{text[-1]}"
