"""Every Python snippet in the FastAPI bank runs as written and does what its card says.

Each fenced ``python`` block is taken from the bank (any text field of any note kind, cloze
markers stripped to their answers), executed in a fresh namespace against the FastAPI pinned
for the tests, and handed to the check listed for its card. A FastAPI release that changes
what a snippet does then fails here instead of misleading the deck's users.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from conftest import ROOT
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel
from starlette.types import Message, Receive, Scope, Send

BANK = ROOT / "questions.yaml"
FENCE = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
CLOZE = re.compile(r"\{\{c\d+::(.*?)\}\}", re.DOTALL)
NOT_TEXT = {"id", "kind", "tags", "retired"}

Namespace = dict[str, Any]


def strip_cloze(text: str) -> str:
    """``{{c1::answer::hint}}`` -> ``answer``, as the card shows it once revealed."""
    return CLOZE.sub(lambda match: match.group(1).split("::")[0], text)


def bank_snippets() -> dict[str, list[str]]:
    """The Python blocks of every note, by note id."""
    bank = yaml.safe_load(BANK.read_text(encoding="utf-8"))
    found: dict[str, list[str]] = {}
    for topic in bank["topics"]:
        for note in topic["questions"]:
            for key, value in note.items():
                if key not in NOT_TEXT and isinstance(value, str):
                    blocks = FENCE.findall(strip_cloze(value))
                    found.setdefault(note["id"], []).extend(blocks)
    return {note_id: blocks for note_id, blocks in found.items() if blocks}


SNIPPETS = bank_snippets()


def run(note_id: str) -> Namespace:
    """Execute a note's snippet as its own module and return its globals."""
    (code,) = SNIPPETS[note_id]
    namespace: Namespace = {"__name__": f"snippet_{note_id.replace('-', '_')}"}
    exec(compile(code, f"<{note_id}>", "exec"), namespace)
    return namespace


def client(ns: Namespace, **options: Any) -> TestClient:
    return TestClient(ns["app"], **options)


def openapi_parameters(ns: Namespace, path: str, method: str = "get") -> set[tuple[str, str]]:
    operation = ns["app"].openapi()["paths"][path][method]
    return {(p["name"], p["in"]) for p in operation.get("parameters", [])}


# One check per snippet: what the card claims, asserted against the running app.


def check_define_a_route(ns: Namespace) -> None:
    c = client(ns)
    assert c.get("/items/3", params={"q": "x"}).json() == {"item_id": 3, "q": "x"}
    assert c.get("/items/3").json() == {"item_id": 3, "q": None}
    assert c.get("/items/abc").status_code == 422
    assert openapi_parameters(ns, "/items/{item_id}") == {("item_id", "path"), ("q", "query")}


def check_api_versioning(ns: Namespace) -> None:
    c = client(ns)
    assert c.get("/v1/users/1").json() == {"name": "Ada Lovelace"}
    assert c.get("/v2/users/1").json() == {"first": "Ada", "last": "Lovelace"}


def check_route_order(ns: Namespace) -> None:
    c = client(ns)
    assert c.get("/users/me").json() == "me"
    assert c.get("/users/7").json() == 7
    # The card's extra: declared the other way round, /users/me fails validation.
    reversed_app = FastAPI()
    reversed_app.get("/users/{user_id}")(ns["user"])
    reversed_app.get("/users/me")(ns["current_user"])
    assert TestClient(reversed_app).get("/users/me").status_code == 422


def check_status_code_parameter(ns: Namespace) -> None:
    response = client(ns).post("/items", params={"name": "pen"})
    assert (response.status_code, response.json()) == (201, {"name": "pen"})
    assert "201" in ns["app"].openapi()["paths"]["/items"]["post"]["responses"]


def check_mount_sub_application(ns: Namespace) -> None:
    c = client(ns)
    assert c.get("/v2/items").json() == ["new"]
    assert c.get("/v2/docs").status_code == 200
    assert "/items" in c.get("/v2/openapi.json").json()["paths"]
    assert "/v2/items" not in ns["app"].openapi()["paths"]


def check_request_vs_response_models(ns: Namespace) -> None:
    response = client(ns).post("/users", json={"username": "ada", "password": "s3cret"})
    assert response.json() == {"username": "ada"}


def check_query_constraints(ns: Namespace) -> None:
    c = client(ns)
    assert c.get("/search", params={"q": "abc"}).json() == {"q": "abc"}
    short = c.get("/search", params={"q": "ab"})
    assert short.status_code == 422
    assert short.json()["detail"][0]["type"] == "string_too_short"


def check_field_constraints(ns: Namespace) -> None:
    c = client(ns)
    assert c.post("/items", json={"name": "pen", "price": 0}).status_code == 422
    assert c.post("/items", json={"name": "pen", "price": 0.01}).status_code == 200


def check_forbid_extra_fields(ns: Namespace) -> None:
    c = client(ns)
    assert c.post("/signup", json={"email": "a@example.com"}).status_code == 200
    extra = c.post("/signup", json={"email": "a@example.com", "admin": True})
    assert extra.status_code == 422
    assert extra.json()["detail"][0]["type"] == "extra_forbidden"

    # The card's extra: without the setting, unknown fields are dropped silently.
    class Loose(BaseModel):
        email: str

    assert Loose.model_validate({"email": "a", "admin": True}).model_dump() == {"email": "a"}


def check_custom_validation_errors(ns: Namespace) -> None:
    c = client(ns)
    invalid = c.get("/items", params={"limit": "x"})
    assert (invalid.status_code, invalid.json()) == (400, {"invalid": ["query.limit"]})
    assert c.get("/items", params={"limit": "5"}).json() == 5


def check_exclude_unset(ns: Namespace) -> None:
    assert client(ns).get("/profile").json() == {"name": "Ada"}


def check_dependency_injection(ns: Namespace) -> None:
    assert client(ns).get("/items", params={"skip": "5"}).json() == {"skip": 5, "limit": 100}
    # The example answer: the dependency's parameters still appear in the docs.
    assert openapi_parameters(ns, "/items") == {("skip", "query"), ("limit", "query")}


def check_database_integration(ns: Namespace) -> None:
    opened: list[sqlite3.Connection] = []

    class Tracking:
        """Stands in for the sqlite3 module the snippet looks up when get_db runs."""

        Connection = sqlite3.Connection

        @staticmethod
        def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
            connection = sqlite3.connect(*args, **kwargs)
            opened.append(connection)
            return connection

    ns["sqlite3"] = Tracking
    app = ns["app"]

    # A default, not Annotated: this module's annotations are strings FastAPI cannot resolve
    # against the snippet's namespace.
    @app.get("/fails")
    def fails(db: Any = Depends(ns["get_db"])) -> None:  # noqa: B008
        raise RuntimeError("the endpoint fails")

    c = client(ns, raise_server_exceptions=False)
    assert c.get("/answer").json() == 42
    assert c.get("/fails").status_code == 500
    assert len(opened) == 2  # one connection per request...
    for connection in opened:  # ...and each one closed, even after the failure
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            connection.execute("SELECT 1")


def check_testing_fastapi(ns: Namespace) -> None:
    ns["test_me"]()
    ns["app"].dependency_overrides.clear()
    with pytest.raises(NotImplementedError):  # without the override, the real one runs
        client(ns).get("/me")


def check_async_vs_sync_endpoints(ns: Namespace) -> None:
    with client(ns) as c:
        loop_thread = c.get("/async").json()
        assert c.get("/async").json() == loop_thread  # async endpoints share the loop's thread
        assert c.get("/sync").json() != loop_thread  # a sync one runs in a worker thread


def check_websockets(ns: Namespace) -> None:
    with client(ns).websocket_connect("/ws") as ws:
        ws.send_text("hi")
        assert ws.receive_text() == "echo: hi"
        ws.send_text("again")
        assert ws.receive_text() == "echo: again"


def check_background_tasks(ns: Namespace) -> None:
    outbox_when_sent: list[list[str]] = []

    async def observed(scope: Scope, receive: Receive, send: Send) -> None:
        async def spy(message: Message) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body"):
                outbox_when_sent.append(list(ns["outbox"]))
            await send(message)

        await ns["app"](scope, receive, spy)

    response = TestClient(observed).post("/signup", params={"email": "ada@example.com"})
    assert response.json() == {"queued": "ada@example.com"}
    assert outbox_when_sent == [[]]  # the response was complete before the task ran
    assert ns["outbox"] == ["ada@example.com"]  # and then the task ran


def check_authentication(ns: Namespace) -> None:
    c = client(ns)
    missing = c.get("/me")
    assert (missing.status_code, missing.headers["www-authenticate"]) == (401, "Bearer")
    wrong = c.get("/me", headers={"Authorization": "Bearer forged"})
    assert (wrong.status_code, wrong.headers["www-authenticate"]) == (401, "Bearer")
    ok = c.get("/me", headers={"Authorization": "Bearer valid-token"})
    assert ok.json() == {"user": "alice"}
    schemes = ns["app"].openapi()["components"]["securitySchemes"]
    assert schemes == {
        "OAuth2PasswordBearer": {
            "type": "oauth2",
            "flows": {"password": {"scopes": {}, "tokenUrl": "token"}},
        }
    }


def check_route_level_dependencies(ns: Namespace) -> None:
    c = client(ns)
    assert c.get("/reports").status_code == 422  # the header is required
    wrong = c.get("/reports", headers={"X-API-Key": "guess"})
    assert (wrong.status_code, wrong.headers["www-authenticate"]) == (401, "APIKey")
    assert c.get("/reports", headers={"X-API-Key": "let-me-in"}).json() == ["q1", "q2"]


def check_lifespan(ns: Namespace) -> None:
    with client(ns) as c:
        assert c.get("/").json() == "hello"
    assert ns["resources"] == {}


def check_run_in_threadpool(ns: Namespace) -> None:
    threads: list[int] = []
    blocking = ns["legacy_lookup"]

    def recording(key: str) -> str:
        threads.append(threading.get_ident())
        return str(blocking(key))

    ns["legacy_lookup"] = recording
    app = ns["app"]

    @app.get("/loop-thread")
    async def loop_thread() -> int:
        return threading.get_ident()

    with client(ns) as c:
        assert c.get("/lookup/abc").json() == "ABC"
        assert threads != [c.get("/loop-thread").json()]  # it ran off the event loop
    assert len(threads) == 1


def check_cors_allow_origins(ns: Namespace) -> None:
    c = client(ns)
    allowed = c.get("/", headers={"Origin": "https://app.example.com"})
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    other = c.get("/", headers={"Origin": "https://elsewhere.example"})
    assert other.status_code == 200
    assert "access-control-allow-origin" not in other.headers


def check_middleware(ns: Namespace) -> None:
    response = client(ns).get("/")
    assert response.json() == {"ok": True}
    assert float(response.headers["x-process-time"]) >= 0


def check_error_handling(ns: Namespace) -> None:
    response = client(ns).post("/orders/pen-42")
    assert (response.status_code, response.json()) == (409, {"error": "pen-42 is sold out"})


def check_document_extra_responses(ns: Namespace) -> None:
    c = client(ns)
    assert c.get("/items/1").json() == {"id": 1}
    assert c.get("/items/2").status_code == 404
    responses = ns["app"].openapi()["paths"]["/items/{item_id}"]["get"]["responses"]
    assert responses["404"]["description"] == "No such item"


def check_operation_tags(ns: Namespace) -> None:
    assert client(ns).get("/users").json() == []
    assert ns["app"].openapi()["paths"]["/users"]["get"]["tags"] == ["users"]


CHECKS: dict[str, Callable[[Namespace], None]] = {
    "define-a-route": check_define_a_route,
    "api-versioning": check_api_versioning,
    "route-order": check_route_order,
    "status-code-parameter": check_status_code_parameter,
    "mount-sub-application": check_mount_sub_application,
    "request-vs-response-models": check_request_vs_response_models,
    "query-constraints": check_query_constraints,
    "field-constraints": check_field_constraints,
    "forbid-extra-fields": check_forbid_extra_fields,
    "custom-validation-errors": check_custom_validation_errors,
    "exclude-unset": check_exclude_unset,
    "dependency-injection": check_dependency_injection,
    "database-integration": check_database_integration,
    "testing-fastapi": check_testing_fastapi,
    "route-level-dependencies": check_route_level_dependencies,
    "lifespan": check_lifespan,
    "async-vs-sync-endpoints": check_async_vs_sync_endpoints,
    "run-in-threadpool": check_run_in_threadpool,
    "websockets": check_websockets,
    "background-tasks": check_background_tasks,
    "authentication": check_authentication,
    "cors-allow-origins": check_cors_allow_origins,
    "middleware": check_middleware,
    "error-handling": check_error_handling,
    "document-extra-responses": check_document_extra_responses,
    "operation-tags": check_operation_tags,
}


def test_every_snippet_has_a_check() -> None:
    """A new snippet without a check, or a check whose snippet is gone, fails here."""
    assert sorted(SNIPPETS) == sorted(CHECKS)


def test_one_snippet_per_note() -> None:
    """The table names snippets by note id, so a note holds at most one."""
    assert {note_id: len(blocks) for note_id, blocks in SNIPPETS.items() if len(blocks) > 1} == {}


@pytest.mark.parametrize("note_id", sorted(CHECKS))
def test_snippet_runs_and_does_what_its_card_says(note_id: str) -> None:
    """The snippet runs on its own (imports and app included) and behaves as claimed."""
    CHECKS[note_id](run(note_id))


@pytest.mark.parametrize("note_id", sorted(SNIPPETS))
def test_snippet_fits_on_a_card(note_id: str) -> None:
    """A snippet is short enough to read on a phone: at most 20 lines of 90 characters."""
    (code,) = SNIPPETS[note_id]
    lines = code.splitlines()
    assert len(lines) <= 20
    assert max(len(line) for line in lines) <= 90


def test_cloze_markers_are_stripped() -> None:
    """Cloze answers stay in the code; hints go."""
    assert strip_cloze("Field({{c1::gt}}=0) {{c2::yes::hint}}") == "Field(gt=0) yes"
