"""The fast paths of loading a bank against the paths they stand in for: composing bytes
against composing text, and the quick checker against the full one. On any source, each
fast path gives the same result, or steps aside so that the full path gives it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, SMALL
from hypothesis import given
from test_properties import PROFILE, mutated_bank, yaml_noise

from deckgen.checker import load_deck, validate
from deckgen.errors import SourceError
from deckgen.model import Deck
from deckgen.quickcheck import quick_load
from deckgen.source import compose, compose_bytes, decode


def tree(node: yaml.Node | None) -> object:
    """A node tree as plain data, marks included, to compare two compositions."""
    if node is None:
        return None
    mark = (node.start_mark.line, node.start_mark.column)
    if isinstance(node, yaml.ScalarNode):
        return (node.tag, node.value, node.style, mark)
    if isinstance(node, yaml.SequenceNode):
        return (node.tag, [tree(n) for n in node.value], mark)
    return (node.tag, [(tree(k), tree(v)) for k, v in node.value], mark)


def outcome(action: object) -> object:
    """What a load gives: its result, or the problems it raised."""
    try:
        return action()  # type: ignore[operator]
    except SourceError as e:
        return [str(p) for p in e.problems]


def full(root: yaml.Node, text: str, folder: Path) -> Deck | list[str]:
    return outcome(lambda: validate(root, file="bank.yaml", text=text, folder=folder))  # type: ignore[return-value]


def check_same(source: bytes, folder: Path) -> None:
    by_text = outcome(lambda: tree(compose(decode(source, name="b"), name="b")))
    by_bytes = outcome(lambda: tree(compose_bytes(source, name="b")))
    assert by_bytes == by_text
    if isinstance(by_text, list):
        return
    root = compose_bytes(source, name="b")
    expected = full(root, decode(source, name="b"), folder)
    quick = quick_load(source, file="bank.yaml", folder=folder)
    if quick is not None:
        assert quick == expected
    else:
        assert isinstance(expected, list) or _unusual(source)


def _unusual(source: bytes) -> bool:
    """Valid banks the quick checker leaves to the full one: YAML tags or aliases."""
    return any(mark in source for mark in (b"!", b"&", b"*", b"~", b"null"))


@PROFILE
@given(source=mutated_bank())
def test_mutated_banks_load_alike(source: bytes, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Edited banks: the same nodes from bytes as from text; the quick checker's deck is the
    full checker's, and it gives up whenever the full checker finds a problem."""
    check_same(source, tmp_path_factory.mktemp("bank"))


@PROFILE
@given(source=yaml_noise)
def test_random_yaml_loads_alike(source: bytes, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Text made of YAML's punctuation, at random."""
    check_same(source, tmp_path_factory.mktemp("bank"))


@pytest.mark.parametrize("path", [SMALL, ROOT / "questions.yaml"], ids=["small", "questions"])
def test_valid_banks_take_the_quick_path(path: Path) -> None:
    """The banks that have no problem are checked by the quick path, to the same deck (the
    line of each question included)."""
    source = path.read_bytes()
    root = compose_bytes(source, name="b")
    quick = quick_load(source, file="bank.yaml", folder=path.parent)
    assert quick is not None
    assert quick == full(root, decode(source, name="b"), path.parent)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"a\\x01b"', "contains control character U+0001"),
        ('"a\\tb"', None),
        ("|\n          a\tb", None),
        ("'a\tb'", None),
        ('"a\\rb"', "contains control character U+000D"),
    ],
)
def test_control_characters_reach_texts_only_through_escapes(
    tmp_path: Path, value: str, expected: str | None
) -> None:
    """The quick path looks for control characters only in double-quoted texts: YAML's reader
    refuses them anywhere else in the file."""
    text = SMALL.read_text(encoding="utf-8")
    one_line = next(line for line in text.splitlines() if 'answer: "It is' in line)
    indent = one_line[: len(one_line) - len(one_line.lstrip())]
    path = tmp_path / "bank.yaml"
    path.write_text(text.replace(one_line, f"{indent}answer: {value}", 1), encoding="utf-8")
    if expected is None:
        assert load_deck(path).topics
    else:
        with pytest.raises(SourceError, match=re.escape(expected)):
            load_deck(path)


def test_raw_control_characters_are_refused_by_the_reader() -> None:
    """A control character written as itself stops YAML's reader, wherever it stands."""
    with pytest.raises(SourceError, match="not allowed in YAML"):
        compose_bytes(b"a: |\n  x\x01y\n", name="b")
