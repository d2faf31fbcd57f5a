"""The JSON Schema of the source format, derived from the declarations the validator uses.

Editors use it to complete and check keys while a bank is written. The schema checks shape
and types; `deckgen validate` checks everything, duplicates and Anki's rules included.
"""

from __future__ import annotations

from typing import Any

from deckgen.model import (
    DECK,
    MAX_DECK_ID,
    MIN_DECK_ID,
    QUESTIONS,
    ROOT,
    TAG_PATTERN,
    TOPIC,
    Key,
    Kind,
)

SCHEMA_FILE = "deckgen.schema.json"
_NON_BLANK = r"\S"


def json_schema() -> dict[str, Any]:
    """The schema as a JSON-ready dict (draft 2020-12)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "deckgen question bank",
        "description": "A question bank that `deckgen build` turns into an Anki deck.",
        **_object(ROOT),
        "$defs": {
            "deck": _object(DECK),
            "topic": _object(TOPIC),
            "question": {
                "description": "A question; its kind (basic when absent) decides its keys.",
                "oneOf": [{"$ref": f"#/$defs/{kind}-question"} for kind in QUESTIONS],
            },
            **{f"{kind}-question": _question(kind, keys) for kind, keys in QUESTIONS.items()},
            "tags": {
                "type": "array",
                "items": {"type": "string", "pattern": TAG_PATTERN},
            },
        },
    }


def _question(kind: str, keys: tuple[Key, ...]) -> dict[str, Any]:
    schema = _object(keys)
    # Each kind's `kind` allows only its own name, so exactly one branch of oneOf matches;
    # only a basic question may leave it out.
    schema["properties"]["kind"] = {"description": keys[1].doc, "const": kind}
    if kind != "basic":
        schema["required"].append("kind")
    return schema


def _object(keys: tuple[Key, ...]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [key.name for key in keys if key.required],
        "properties": {key.name: _property(key) for key in keys},
    }


def _property(key: Key) -> dict[str, Any]:
    schema: dict[str, Any] = {"description": key.doc}
    if key.kind in (Kind.TEXT, Kind.MARKDOWN):
        # An optional text may be left empty (null), which counts as absent.
        schema["type"] = "string" if key.required else ["string", "null"]
        if key.pattern or key.required:
            schema["pattern"] = key.pattern or _NON_BLANK
    elif key.kind is Kind.INTEGER:
        schema |= {"type": "integer", "minimum": MIN_DECK_ID, "maximum": MAX_DECK_ID}
    elif key.kind is Kind.BOOLEAN:
        schema["type"] = "boolean"
    elif key.kind is Kind.TAGS:
        schema["$ref"] = "#/$defs/tags"
    elif key.kind is Kind.DECK:
        schema["$ref"] = "#/$defs/deck"
    else:
        item = "topic" if key.kind is Kind.TOPICS else "question"
        schema |= {"type": "array", "minItems": 1, "items": {"$ref": f"#/$defs/{item}"}}
    return schema
