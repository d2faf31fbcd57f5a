"""Source text to a YAML node tree whose nodes remember their line and column.

Only composing happens here: no YAML tag is ever constructed into a Python object, so custom
tags such as ``!!python/object`` cannot run code, and aliases stay shared nodes instead of being
expanded ("billion laughs"). The schema walk in :mod:`deckgen.model` turns nodes into values.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

import yaml

from deckgen.errors import (
    CONTROL_CHARACTER,
    EMPTY_FILE,
    ENCODING,
    SOURCE_SIZE,
    YAML_NODES,
    YAML_SYNTAX,
    DeckgenError,
    Problem,
    SourceError,
    quote,
)
from deckgen.limits import MAX_SOURCE_BYTES, MAX_YAML_NODES

_TAG = "tag:yaml.org,2002:"
# The standard tags a bank may hold, by what they hold in words; any other tag is refused.
KINDS = {
    f"{_TAG}str": "text",
    f"{_TAG}int": "an integer",
    f"{_TAG}float": "a number",
    f"{_TAG}bool": "a boolean",
    f"{_TAG}null": "nothing",
    f"{_TAG}timestamp": "a date",
    f"{_TAG}seq": "a list",
    f"{_TAG}map": "a mapping",
}
# What a scalar must look like to carry each tag other than !!str: the patterns PyYAML's
# resolver gives plain scalars, which an explicit tag (!!int "abc") bypasses.
_SCALAR_PATTERNS = {
    tag: pattern
    for resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.values()
    for tag, pattern in resolvers
    if tag in KINDS
}

# libyaml composes in C and caps nesting at 1000 levels; the pure-Python loader is the fallback.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR, _SEQ, _MAP = f"{_TAG}str", f"{_TAG}seq", f"{_TAG}map"


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """The safe loader, with the tag resolution it calls for every node in fewer steps."""

    def resolve(self, kind: type[yaml.Node], value: str | None, implicit: tuple[bool, bool]) -> str:
        resolvers = self.yaml_implicit_resolvers
        if None in resolvers or self.yaml_path_resolvers:  # none in the safe loader
            return str(super().resolve(kind, value, implicit))
        if kind is yaml.ScalarNode:
            if implicit[0]:  # a plain scalar: its first character picks the patterns to try
                for tag, pattern in resolvers.get(value[:1], ()):  # type: ignore[index]
                    if pattern.match(value):
                        return str(tag)
            return _STR
        return _SEQ if kind is yaml.SequenceNode else _MAP


def open_regular_file(path: Path, *, name: str) -> BinaryIO:
    """Open ``path`` for reading in binary, if it is a regular file.

    A FIFO would block forever and a device such as /dev/zero never ends, so anything but a
    regular file is a :class:`DeckgenError`, as is a file that cannot be opened.
    """
    try:
        # O_NONBLOCK: opening a FIFO with no writer would otherwise wait for one.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_BINARY", 0))
    except OSError as e:
        raise DeckgenError(f"cannot read {name}: {e.strerror or e}") from e
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise DeckgenError(f"cannot read {name}: it is {_file_kind(mode)}, not a regular file")
        return os.fdopen(fd, "rb")
    except BaseException as e:
        os.close(fd)
        if isinstance(e, OSError):
            raise DeckgenError(f"cannot read {name}: {e.strerror or e}") from e
        raise


def read_regular_file(path: Path, *, name: str, limit: int) -> bytes | None:
    """The bytes of the regular file ``path`` (see :func:`open_regular_file`), or ``None``
    when it holds more than ``limit`` bytes; never more than that is read."""
    with open_regular_file(path, name=name) as file:
        try:
            if os.fstat(file.fileno()).st_size > limit:
                return None
            # One byte more than the limit tells a file that grew since fstat().
            data = file.read(limit + 1)
        except OSError as e:
            raise DeckgenError(f"cannot read {name}: {e.strerror or e}") from e
    return None if len(data) > limit else data


def read_text(path: Path, *, name: str) -> str:
    """Read a UTF-8 source file (a BOM is dropped); bad bytes or a file over
    :data:`~deckgen.limits.MAX_SOURCE_BYTES` become a located problem."""
    return decode(read_source(path, name=name), name=name)


def read_source(path: Path, *, name: str) -> bytes:
    """The bytes of a source file; a file over :data:`~deckgen.limits.MAX_SOURCE_BYTES` is a
    located problem."""
    data = read_regular_file(path, name=name, limit=MAX_SOURCE_BYTES)
    if data is None:
        message = (
            f"the file is larger than the limit of {MAX_SOURCE_BYTES:,} bytes "
            f"({MAX_SOURCE_BYTES // 2**20} MiB)"
        )
        raise SourceError([Problem(name, 1, 1, message, SOURCE_SIZE)])
    return data


def decode(data: bytes, *, name: str) -> str:
    """The text of a source file's bytes (a BOM is dropped); bytes that are not UTF-8 are a
    located problem."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        start = e.start
        line_start = data.rfind(b"\n", 0, start) + 1
        prefix = data[line_start:start].decode("utf-8", errors="replace")
        line = data.count(b"\n", 0, start) + 1
        message = f"invalid UTF-8 byte 0x{data[start]:02x}: the file must be encoded as UTF-8"
        raise SourceError([Problem(name, line, len(prefix) + 1, message, ENCODING)]) from e


BANK_FILE = "a mapping with 'deck' and 'topics'"


def compose(text: str, *, name: str, expected: str = BANK_FILE) -> yaml.Node:
    """Compose YAML text into one node tree, or raise the syntax problem at its location;
    ``expected`` says what an empty file should have held."""
    try:
        _check_node_count(text, name=name)
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
        message = f"the file is empty: expected {expected}"
        raise SourceError([Problem(name, 1, 1, message, EMPTY_FILE)])
    return node


def compose_bytes(data: bytes, *, name: str) -> yaml.Node:
    """Compose a source's bytes as :func:`compose` composes their text, to the same nodes or
    the same problem, without ever holding the whole text as a Python string.

    libyaml reads UTF-8 itself and refuses exactly the byte sequences Python's decoder
    refuses; a composition that succeeds has read every byte. Anything else (a BOM that
    would make libyaml read UTF-16, any error) takes the text path, so that the problem
    reported is the one it reports.
    """
    if not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            if 1 + sum(w * data.count(c.encode()) for c, w in _NODE_WEIGHTS) <= MAX_YAML_NODES:
                node = yaml.compose(data, Loader=_Loader)
                if node is not None and not (
                    node.tag == "tag:yaml.org,2002:null" and node.value == ""
                ):
                    return node
        except (yaml.YAMLError, RecursionError):
            pass
    return compose(decode(data, name=name), name=name)


def load_source(path: Path, *, name: str | None = None) -> yaml.Node:
    """Read and compose one source file; ``name`` is how problems name the file."""
    shown = str(path) if name is None else name
    return compose(read_text(path, name=shown), name=shown)


# A bound on the nodes a text can hold, from the characters that start them: "a: b" is two
# nodes for its ':', "- a" one for its '-', "[a, b]" two for each of '[' and ',', "{a}"
# three for its '{' (a key without a value is two), "? a" two; the root is one more.
_NODE_WEIGHTS = ((":", 2), (",", 2), ("?", 2), ("[", 2), ("-", 1), ("{", 3))


def node_limit() -> int:
    """The most YAML nodes a source may hold (:data:`MAX_YAML_NODES`)."""
    return MAX_YAML_NODES


def node_bound(text: str) -> int:
    """An upper bound on the YAML nodes ``text`` holds, from its punctuation alone."""
    return 1 + sum(weight * text.count(c) for c, weight in _NODE_WEIGHTS)


def count_nodes(text: str, *, name: str, limit: int, message: str) -> int:
    """The YAML nodes of ``text``'s first document (aliases not counted), counted from parser
    events; past ``limit``, raise ``message`` as a problem where the limit is passed."""
    nodes = 0
    documents = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                break  # composing stops at the second document and reports it
        elif isinstance(event, yaml.NodeEvent) and not isinstance(event, yaml.AliasEvent):
            nodes += 1
            if nodes > limit:
                line, column = _event_position(event)
                raise SourceError([Problem(name, line, column, message, YAML_NODES)])
    return nodes


def _check_node_count(text: str, *, name: str) -> None:
    """Refuse a source with more than :data:`MAX_YAML_NODES` nodes before composing it.

    Composing costs a few hundred bytes per node. Counting parser events is cheaper but not
    free, so it is done only when a bound from the text's punctuation allows too many.
    """
    if node_bound(text) <= MAX_YAML_NODES:
        return
    message = (
        f"the file has more than the limit of {MAX_YAML_NODES:,} YAML values "
        "(texts, lists and mappings)"
    )
    count_nodes(text, name=name, limit=MAX_YAML_NODES, message=message)


def _event_position(event: yaml.Event) -> tuple[int, int]:
    mark = event.start_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def _file_kind(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((what for test, what in kinds if test(mode)), "a special file")


def node_kind(node: yaml.Node) -> str | None:
    """What ``node`` holds, in words ("text", "a list", ...), or ``None`` for a tag that is
    not one of :data:`KINDS`."""
    return KINDS.get(node.tag)


def tag_misfit(node: yaml.Node) -> str | None:
    """Why the standard tag of ``node`` does not fit it (``!!str [a]``, ``!!int "abc"``),
    or ``None``. Without an explicit tag, a node always fits the tag it was given."""
    kind = KINDS.get(node.tag)
    if kind is None:
        return None
    tag = node.tag.replace(_TAG, "!!")
    if kind in ("a list", "a mapping"):
        expected: type[yaml.Node] = yaml.SequenceNode if kind == "a list" else yaml.MappingNode
        if isinstance(node, expected):
            return None
        what = f"the text {quote(node.value)}" if isinstance(node, yaml.ScalarNode) else None
        return f"YAML tag {tag!r} does not fit {what or _collection_kind(node)}"
    if not isinstance(node, yaml.ScalarNode):
        return f"YAML tag {tag!r} does not fit {_collection_kind(node)}"
    pattern = _SCALAR_PATTERNS.get(node.tag)
    if pattern is None or pattern.fullmatch(node.value):
        return None
    noun = "null" if kind == "nothing" else kind
    return f"YAML tag {tag!r} does not fit {quote(node.value)}, which is not {noun}"


def _collection_kind(node: yaml.Node) -> str:
    return "a list" if isinstance(node, yaml.SequenceNode) else "a mapping"


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
