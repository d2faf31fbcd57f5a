"""Source text to a YAML node tree whose nodes remember their line and column.

Only composing happens here: no YAML tag is ever constructed into a Python object, so custom
tags such as ``!!python/object`` cannot run code, and aliases stay shared nodes instead of being
expanded ("billion laughs"). The schema walk in :mod:`deckgen.model` turns nodes into values.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from deckgen.errors import (
    CONTROL_CHARACTER,
    EMPTY_FILE,
    ENCODING,
    YAML_SYNTAX,
    DeckgenError,
    Problem,
    SourceError,
)

# libyaml composes in C and caps nesting at 1000 levels; the pure-Python loader is the fallback.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_text(path: Path, *, name: str) -> str:
    """Read a UTF-8 source file (a BOM is dropped); bad bytes become a located problem."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DeckgenError(f"cannot read {name}: {e.strerror or e}") from e
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        start = e.start
        line_start = data.rfind(b"\n", 0, start) + 1
        prefix = data[line_start:start].decode("utf-8", errors="replace")
        line = data.count(b"\n", 0, start) + 1
        message = f"invalid UTF-8 byte 0x{data[start]:02x}: the file must be encoded as UTF-8"
        raise SourceError([Problem(name, line, len(prefix) + 1, message, ENCODING)]) from e


def compose(text: str, *, name: str) -> yaml.Node:
    """Compose YAML text into one node tree, or raise the syntax problem at its location."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as e:
        raise SourceError([_syntax_problem(e, text, name)]) from e
    except yaml.reader.ReaderError as e:
        line, column = _position(text, e.position)
        code = e.character if isinstance(e.character, int) else ord(e.character)
        message = f"character U+{code:04X} is not allowed in YAML ({e.reason})"
        raise SourceError([Problem(name, line, column, message, CONTROL_CHARACTER)]) from e
    except RecursionError as e:  # only the pure-Python loader recurses per nesting level
        problem = Problem(name, 1, 1, "the document is nested too deeply", YAML_SYNTAX)
        raise SourceError([problem]) from e
    except yaml.YAMLError as e:
        raise SourceError([Problem(name, 1, 1, f"YAML error: {e}", YAML_SYNTAX)]) from e
    if node is None or (node.tag == "tag:yaml.org,2002:null" and node.value == ""):
        message = "the file is empty: expected a mapping with 'deck' and 'topics'"
        raise SourceError([Problem(name, 1, 1, message, EMPTY_FILE)])
    return node


def load_source(path: Path, *, name: str | None = None) -> yaml.Node:
    """Read and compose one source file; ``name`` is how problems name the file."""
    shown = str(path) if name is None else name
    return compose(read_text(path, name=shown), name=shown)


def _syntax_problem(error: yaml.MarkedYAMLError, text: str, name: str) -> Problem:
    mark = error.problem_mark or error.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    message = error.problem or "invalid YAML"
    if mark is not None and 0 <= mark.index < len(text) and text[mark.index] == "\t":
        message = "tab character: YAML must be indented with spaces"
    elif error.context and message.startswith("but "):
        message = f"{error.context}, {message}"
    elif error.context and error.context_mark is not None and error.context_mark != mark:
        where = error.context_mark.line + 1
        message = f"{message} ({error.context} on line {where})"
    elif error.context:
        message = f"{message} ({error.context})"
    return Problem(name, line, column, f"YAML syntax error: {message}", YAML_SYNTAX)


def _position(text: str, index: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1
