"""Problems as text for people, JSON for tools, or GitHub Actions annotations."""

from __future__ import annotations

import json
from collections.abc import Sequence

from deckgen.errors import Problem

FORMATS = ("text", "json", "github")


def format_problems(problems: Sequence[Problem], *, style: str) -> str:
    """All problems in one of :data:`FORMATS`; text and github give one line per problem."""
    if style == "json":
        return json.dumps([_as_json(p) for p in problems], indent=2, ensure_ascii=False)
    if style == "github":
        return "\n".join(map(github_annotation, problems))
    return "\n".join(map(str, problems))


def github_annotation(problem: Problem) -> str:
    """A workflow command that shows ``problem`` as an error on its line of the pull request."""
    properties = ",".join(
        f"{key}={_escape_property(str(value))}"
        for key, value in (
            ("file", problem.file),
            ("line", problem.line),
            ("col", problem.column),
            ("title", f"{problem.code.code} {problem.code.name}"),
        )
    )
    return f"::error {properties}::{_escape_data(problem.message)}"


def _as_json(problem: Problem) -> dict[str, object]:
    return {
        "file": problem.file,
        "line": problem.line,
        "column": problem.column,
        "code": problem.code.code,
        "name": problem.code.name,
        "message": problem.message,
    }


def _escape_data(text: str) -> str:
    # The escapes GitHub's runner decodes in a workflow command's message.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
