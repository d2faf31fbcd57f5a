"""The JSON Schema of the source format, derived from the declarations the validator uses.

Editors use it to complete and check keys while a bank is written. The schema checks shape
and types; `deckgen validate` checks everything, duplicates and Anki's rules included.
"""

from __future__ import annotations

from typing import Any

from deckgen.model import (
    DECK,
    DECK_FILE,
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
# The schema of each kind of file, by the name `deckgen schema --for` takes: a bank in one
# file; a folder bank's deck.yaml; one of its topic files.
SCHEMA_FILES = {
    "bank": SCHEMA_FILE,
    "deck": "deckgen-deck.schema.json",
    "topic": "deckgen-topic.schema.json",
}
_NON_BLANK = r"\S"
_ABOUT = {
    "bank": (
        "deckgen question bank",
        "A question bank that `deckgen build` turns into an Anki deck.",
    ),
    "deck": (
        "deckgen deck.yaml",
        "The deck of a bank in many files: deck.yaml in a folder whose other .yaml files "
        "each hold one topic.",
    ),
    "topic": (
        "deckgen topic file",
        "One topic of a bank in many files: a .yaml file beside deck.yaml, or below it.",
    ),
}


def json_schema(kind: str = "bank") -> dict[str, Any]:
    """The schema (draft 2020-12) of one kind of file, a key of :data:`SCHEMA_FILES`, as a
    JSON-ready dict."""
    title, description = _ABOUT[kind]
    root = {"bank": ROOT, "deck": DECK_FILE, "topic": TOPIC}[kind]
    defs: dict[str, Any] = {"deck": _object(DECK)} if kind != "topic" else {}
    if kind == "bank":
        defs["topic"] = _object(TOPIC)
    if kind != "deck":
        defs |= _question_defs()
    defs["tags"] = {"type": "array", "items": {"type": "string", "pattern": TAG_PATTERN}}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "description": description,
        **_object(root),
        "$defs": defs,
    }


def _question_defs() -> dict[str, Any]:
    return {
        "question": {
            "description": "A question; its kind (basic when absent) decides its keys.",
            "oneOf": [{"$ref": f"#/$defs/{kind}-question"} for kind in QUESTIONS],
        },
        **{f"{kind}-question": _question(kind, keys) for kind, keys in QUESTIONS.items()},
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
    elif key.kind is Kind.FILES:
        path = {"type": "string", "pattern": key.pattern}
        schema |= {"type": "array", "minItems": 1, "uniqueItems": True, "items": path}
    else:
        item = "topic" if key.kind is Kind.TOPICS else "question"
        schema |= {"type": "array", "minItems": 1, "items": {"$ref": f"#/$defs/{item}"}}
    return schema
