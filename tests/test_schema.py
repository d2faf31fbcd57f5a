"""Tests for deckgen.schema: the JSON Schema is current, accepts banks, rejects bad shapes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from conftest import INVALID, ROOT, SMALL

from deckgen.model import TAG_PATTERN, tag_problem
from deckgen.schema import SCHEMA_FILE, json_schema
from deckgen.starter import starter_bank

# The invalid fixtures whose problem is one of shape or type, which a schema can see.
SCHEMA_LEVEL = [
    "bad-question-id",
    "bad-tags",
    "blank-answer",
    "deck-id-not-integer",
    "deck-id-out-of-range",
    "empty-lists",
    "list-for-text",
    "missing-keys",
    "number-for-text",
    "root-not-mapping",
    "topics-mapping",
    "unknown-key",
]


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_committed_schema_is_current() -> None:
    """deckgen.schema.json is what `deckgen schema` prints today."""
    committed = json.loads((ROOT / SCHEMA_FILE).read_text(encoding="utf-8"))
    assert committed == json_schema()


def test_questions_yaml_names_the_schema() -> None:
    """The bank's first line points editors at the schema."""
    first = (ROOT / "questions.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == f"# yaml-language-server: $schema={SCHEMA_FILE}"


@pytest.mark.parametrize(
    "text",
    [
        (ROOT / "questions.yaml").read_text(encoding="utf-8"),
        SMALL.read_text(encoding="utf-8"),
        starter_bank(name="q.yaml"),
        (SMALL.parent / "kinds.yaml").read_text(encoding="utf-8"),
    ],
    ids=["questions", "small", "starter", "kinds"],
)
def test_accepts_valid_banks(validator: jsonschema.Draft202012Validator, text: str) -> None:
    """Valid banks pass the schema."""
    validator.validate(yaml.safe_load(text))


@pytest.mark.parametrize("name", SCHEMA_LEVEL)
def test_rejects_schema_level_problems(
    validator: jsonschema.Draft202012Validator, name: str
) -> None:
    """Wrong types, unknown keys, a text deck id, missing answers and the like fail."""
    assert not validator.is_valid(load(INVALID / f"{name}.yaml"))


@pytest.mark.parametrize(
    "tag", ["ok", "a::b", "c++", "ünï", "a:b", "", "a b", "a\u3000b", "a\x01b", "::a", "a::"]
)
def test_tag_pattern_agrees_with_the_validator(tag: str) -> None:
    """The schema's tag pattern accepts exactly the tags the validator accepts."""
    import re

    assert (re.search(TAG_PATTERN, tag) is not None) == (tag_problem(tag) is None)


@pytest.mark.parametrize(
    "question",
    [
        {"id": "a", "kind": "reversed", "question": "Q?", "answer": "A."},
        {"id": "a", "kind": "cloze", "question": "Q?", "answer": "A."},
        {"id": "a", "kind": "clozed", "text": "{{c1::x}}"},
        {"id": "a", "kind": "type-in", "question": "Q?", "answer": "two\nlines"},
        {"id": "a", "kind": "type-in", "question": "Q?", "answer": "`code`"},
        {"id": "a", "question": "Q?", "answer": "A.", "text": "cloze text"},
    ],
)
def test_kinds_take_only_their_keys(
    validator: jsonschema.Draft202012Validator, question: dict[str, str]
) -> None:
    """A question with another kind's keys, an unknown kind or a typed answer that is not
    one plain line fails the schema, as it fails validation."""
    bank = {"deck": {"name": "D", "id": 12345}, "topics": [{"name": "T", "questions": [question]}]}
    assert not validator.is_valid(bank)
