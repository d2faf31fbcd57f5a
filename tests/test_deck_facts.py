"""Facts the FastAPI deck states in words, checked against the FastAPI pinned for the tests.

tests/test_snippets.py runs the deck's code; this module covers the claims that have no
snippet: status codes, what runs when, names and defaults. Each check is keyed by the id of
the note that states the fact, so a FastAPI upgrade that changes one points at the card.
"""

# No `from __future__ import annotations`: the routes below are defined inside functions,
# and FastAPI must evaluate their annotations, which name local dependencies.
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Annotated, Any

import anyio
import anyio.to_thread
import pytest
import yaml
from conftest import ROOT
from fastapi import (
    BackgroundTasks,
    Depends,
    FastAPI,
    Form,
    Header,
    HTTPException,
    Request,
    Security,
)
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.routing import APIRoute
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm, SecurityScopes
from fastapi.security.base import SecurityBase
from fastapi.testclient import TestClient
from pydantic import BaseModel, field_serializer
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.testclient import WebSocketDenialResponse
from starlette.types import Message, Receive, Scope, Send


class Item(BaseModel):
    name: str
    price: float


def record_sends(app: FastAPI, events: list[str]) -> Callable[[Scope, Receive, Send], Any]:
    """Wrap ``app`` so that ``events`` gets "sent" once the response body is complete."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        async def spy(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                events.append("sent")

        await app(scope, receive, spy)

    return wrapped


# Fundamentals


def fact_asgi() -> None:
    messages: list[Message] = []

    async def call() -> None:
        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            messages.append(message)

        app = FastAPI()
        app.get("/")(lambda: "hi")
        scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
        await app(scope, receive, send)  # called directly, as an ASGI server would

    anyio.run(call)
    assert messages[0]["status"] == 200


def fact_jinja2_templates() -> None:
    import jinja2
    from fastapi.templating import Jinja2Templates

    loader = jinja2.DictLoader({"hi.html": "<p>Hello {{ name }}</p>"})
    templates = Jinja2Templates(env=jinja2.Environment(loader=loader, autoescape=True))
    app = FastAPI()

    @app.get("/hi")
    def hi(request: Request, name: str) -> Response:
        return templates.TemplateResponse(request, "hi.html", {"name": name})

    response = TestClient(app).get("/hi", params={"name": "<b>"})
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == "<p>Hello &lt;b&gt;</p>"


def fact_fastapi_type_hint_advantages() -> None:
    """Undeclared behaviour is missing from the docs: a raised 404, a returned Response."""
    app = FastAPI()

    @app.get("/items/{item_id}")
    def read_item(item_id: int) -> dict[str, int]:
        raise HTTPException(status_code=404)

    @app.get("/report")
    def report() -> Response:
        return PlainTextResponse("a,b\n")

    paths = app.openapi()["paths"]
    assert set(paths["/items/{item_id}"]["get"]["responses"]) == {"200", "422"}
    documented = paths["/report"]["get"]["responses"]["200"]["content"]
    assert list(documented) == ["application/json"]  # not text/plain
    assert TestClient(app).get("/report").headers["content-type"].startswith("text/plain")


# Routing


def fact_query_parameter_source() -> None:
    app = FastAPI()

    @app.get("/items")
    def items(limit: int = 10) -> int:
        return limit

    (parameter,) = app.openapi()["paths"]["/items"]["get"]["parameters"]
    assert (parameter["name"], parameter["in"], parameter["required"]) == ("limit", "query", False)
    assert TestClient(app).get("/items", params={"limit": "3"}).json() == 3


def fact_body_parameter_source() -> None:
    app = FastAPI()

    @app.post("/items")
    def create(item: Item) -> Item:
        return item

    operation = app.openapi()["paths"]["/items"]["post"]
    assert "parameters" not in operation
    assert "application/json" in operation["requestBody"]["content"]
    sent = TestClient(app).post("/items", json={"name": "pen", "price": "1.5"})
    assert sent.json() == {"name": "pen", "price": 1.5}


def fact_default_status_code() -> None:
    app = FastAPI()
    app.post("/items")(lambda: {"created": True})
    assert TestClient(app).post("/items").status_code == 200


# Pydantic and validation


def recording_app() -> tuple[FastAPI, list[type[Response]]]:
    """An app whose routes record the class of each response they produce."""
    seen: list[type[Response]] = []

    class Recording(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Any]:
            handler = super().get_route_handler()

            async def recorded(request: Request) -> Response:
                response: Response = await handler(request)
                seen.append(type(response))
                return response

            return recorded

    app = FastAPI()
    app.router.route_class = Recording
    return app, seen


def fact_response_serialization() -> None:
    """With a response model: Pydantic's JSON in a plain Response; without: JSONResponse."""
    app, seen = recording_app()

    @app.get("/model", response_model=Item)
    def with_response_model() -> Any:
        return {"name": "pen", "price": 1}

    @app.get("/annotation")
    def with_return_annotation() -> Item:
        return Item(name="pen", price=1)

    @app.get("/none")
    def without_model():  # no annotation: no response model
        return {"name": "pen", "price": 1}

    @app.get("/own", response_model=Item)
    def own_response() -> Any:
        return PlainTextResponse("as it is")

    @app.get("/own-json", response_model=Item)
    def own_json() -> Any:  # the example answer: neither validated nor filtered
        return JSONResponse({"name": "pen", "secret": "s3cret"})

    @app.get("/custom", response_class=JSONResponse)
    def custom_response_class() -> Item:
        return Item(name="pen", price=1)

    client = TestClient(app)
    for path in ("/model", "/annotation", "/none", "/custom"):
        response = client.get(path)
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {"name": "pen", "price": 1.0}
    assert client.get("/own").text == "as it is"
    assert client.get("/own-json").json() == {"name": "pen", "secret": "s3cret"}
    assert seen == [Response, Response, JSONResponse, JSONResponse, PlainTextResponse, JSONResponse]


def fact_what_is_pydantic() -> None:
    """The example answer: Pydantic converts as well as checks (an ISO date string)."""
    import datetime

    class Event(BaseModel):
        on: datetime.date

    app = FastAPI()

    @app.post("/events")
    def create(event: Event) -> str:
        return type(event.on).__name__

    assert TestClient(app).post("/events", json={"on": "2024-05-06"}).json() == "date"


def fact_validation_error_response() -> None:
    """One 422 lists every problem, from the path, the query, the headers and the body."""
    calls: list[Item] = []
    app = FastAPI()

    @app.post("/shops/{shop_id}/items")
    def create(
        shop_id: int, item: Item, x_version: Annotated[int, Header()], limit: int = 10
    ) -> None:
        calls.append(item)

    response = TestClient(app).post(
        "/shops/main/items",
        params={"limit": "x"},
        headers={"X-Version": "two"},
        json={"price": "cheap"},
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [error["loc"] for error in detail] == [
        ["path", "shop_id"],
        ["query", "limit"],
        ["header", "x-version"],
        ["body", "name"],
        ["body", "price"],
    ]
    assert all({"type", "loc", "msg", "input"} <= set(error) for error in detail)
    assert calls == []


def bad_response_app() -> FastAPI:
    app = FastAPI()

    @app.get("/item", response_model=Item)
    def item() -> Any:
        return {"name": "pen"}  # no price: the server's bug

    return app


def fact_where_validation_happens() -> None:
    response = TestClient(bad_response_app(), raise_server_exceptions=False).get("/item")
    assert (response.status_code, response.text) == (500, "Internal Server Error")


def fact_query_constraints() -> None:
    """The card's extra: `Path(ge=1)` constrains a path parameter as `Query` does a query's."""
    from fastapi import Path

    app = FastAPI()

    @app.get("/items/{item_id}")
    def item(item_id: Annotated[int, Path(ge=1)]) -> int:
        return item_id

    client = TestClient(app)
    assert client.get("/items/1").json() == 1
    assert client.get("/items/0").json()["detail"][0]["type"] == "greater_than_equal"


def fact_field_constraints() -> None:
    """The card's extra: `ge=0` accepts 0, which `gt=0` rejects."""
    from pydantic import Field, ValidationError

    class Free(BaseModel):
        price: float = Field(ge=0)

    class Paid(BaseModel):
        price: float = Field(gt=0)

    assert Free(price=0).price == 0
    with pytest.raises(ValidationError):
        Paid(price=0)


def fact_response_validation_error() -> None:
    from fastapi.exceptions import ResponseValidationError

    with pytest.raises(ResponseValidationError):
        TestClient(bad_response_app()).get("/item")


def fact_pydantic_v2_model_dump() -> None:
    item = Item(name="pen", price=1)
    with pytest.warns(DeprecationWarning, match="model_dump"):
        old = item.dict()
    assert old == item.model_dump() == {"name": "pen", "price": 1.0}


def fact_pydantic_v2_model_validate() -> None:
    data = {"name": "pen", "price": 1}
    with pytest.warns(DeprecationWarning, match="model_validate"):
        old = Item.parse_obj(data)
    assert old == Item.model_validate(data)


def fact_jsonable_encoder_module() -> None:
    import datetime
    import json
    import uuid

    from fastapi.encoders import jsonable_encoder

    value = {
        "at": datetime.datetime(2024, 5, 6, 7, 8, 9),
        "id": uuid.UUID(int=1),
        "item": Item(name="pen", price=1),
    }
    encoded = jsonable_encoder(value)
    assert encoded == {
        "at": "2024-05-06T07:08:09",
        "id": "00000000-0000-0000-0000-000000000001",
        "item": {"name": "pen", "price": 1.0},
    }
    json.dumps(encoded)


# Dependencies and testing


def fact_dependency_cache() -> None:
    calls: list[int] = []

    def counted() -> int:
        calls.append(1)
        return len(calls)

    def sub(n: Annotated[int, Depends(counted)]) -> int:
        return n

    app = FastAPI()

    @app.get("/cached")
    def cached(a: Annotated[int, Depends(counted)], b: Annotated[int, Depends(sub)]) -> list[int]:
        return [a, b]

    @app.get("/uncached")
    def uncached(
        a: Annotated[int, Depends(counted)],
        b: Annotated[int, Depends(counted, use_cache=False)],
    ) -> list[int]:
        return [a, b]

    client = TestClient(app)
    assert client.get("/cached").json() == [1, 1]
    assert client.get("/uncached").json() == [2, 3]


def teardown_order(scope: str | None) -> list[str]:
    """When a yield dependency's exit code runs, relative to the endpoint's return, the
    serialization of its value, the response being sent and a background task."""
    events: list[str] = []

    class Reply(BaseModel):
        session: str

        @field_serializer("session")
        def recorded(self, value: str) -> str:
            events.append("serialized")
            return value

    def resource() -> Iterator[str]:
        yield "session"
        events.append("teardown")

    depends = Depends(resource) if scope is None else Depends(resource, scope=scope)
    app = FastAPI()

    @app.get("/")
    def endpoint(session: Annotated[str, depends], tasks: BackgroundTasks) -> Reply:
        tasks.add_task(events.append, f"task sees {session}")
        events.append("returned")
        return Reply(session=session)

    TestClient(record_sends(app, events)).get("/")
    return events


def fact_yield_dependency_teardown() -> None:
    assert teardown_order(None) == [
        "returned",
        "serialized",
        "sent",
        "task sees session",
        "teardown",
    ]


def fact_dependency_scope_function() -> None:
    """After the endpoint returns and its response is built, before it is sent."""
    assert teardown_order("function") == [
        "returned",
        "serialized",
        "teardown",
        "sent",
        "task sees session",
    ]


def fact_route_level_dependencies() -> None:
    """The card's extra: `FastAPI(dependencies=...)` applies to every route."""
    calls: list[str] = []
    app = FastAPI(dependencies=[Depends(lambda: calls.append("checked"))])
    app.get("/a")(lambda: "a")
    app.get("/b")(lambda: "b")
    client = TestClient(app)
    assert [client.get("/a").json(), client.get("/b").json()] == ["a", "b"]
    assert calls == ["checked", "checked"]


def fact_header_parameter_name() -> None:
    app = FastAPI()

    @app.get("/")
    def key(x_api_key: Annotated[str, Header()]) -> str:
        return x_api_key

    client = TestClient(app)
    assert client.get("/", headers={"X-API-Key": "k"}).json() == "k"
    assert client.get("/", headers={"x_api_key": "k"}).status_code == 422
    (parameter,) = app.openapi()["paths"]["/"]["get"]["parameters"]
    assert (parameter["name"], parameter["in"]) == ("x-api-key", "header")  # the typed answer


def fact_testclient_lifespan() -> None:
    from contextlib import asynccontextmanager

    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        events.append("startup")
        yield
        events.append("shutdown")

    app = FastAPI(lifespan=lifespan)
    app.get("/")(lambda: "ok")
    TestClient(app).get("/")
    assert events == []
    with TestClient(app) as client:
        client.get("/")
        assert events == ["startup"]
    assert events == ["startup", "shutdown"]


# Async


def fact_threadpool_size() -> None:
    """60 requests at once, to sync endpoints and sync dependencies: 40 run at a time."""
    lock = threading.Lock()
    running = [0, 0]  # now, most at once

    def blocking() -> None:
        with lock:
            running[0] += 1
            running[1] = max(running)
        time.sleep(0.25)  # long enough for 40 threads to start, even on a busy machine
        with lock:
            running[0] -= 1

    app = FastAPI()
    app.get("/endpoint")(blocking)

    @app.get("/dependency", dependencies=[Depends(blocking)])
    async def with_sync_dependency() -> None:
        pass

    async def request(path: str) -> None:
        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            pass

        scope = {"type": "http", "method": "GET", "path": path, "headers": [], "query_string": b""}
        await app(scope, receive, send)

    async def flood() -> None:
        async with anyio.create_task_group() as tasks:
            for path in ("/endpoint", "/dependency") * 30:
                tasks.start_soon(request, path)

    anyio.run(flood)
    assert running == [0, 40]


def fact_sync_dependency_thread() -> None:
    def where() -> int:
        return threading.get_ident()

    app = FastAPI()

    @app.get("/")
    async def endpoint(dependency_thread: Annotated[int, Depends(where)]) -> bool:
        return dependency_thread != threading.get_ident()

    assert TestClient(app).get("/").json() is True


# Real-time


def fact_websockets() -> None:
    """A client leaving raises WebSocketDisconnect in the endpoint's receive call."""
    from fastapi import WebSocket, WebSocketDisconnect

    raised: list[int] = []
    app = FastAPI()

    @app.websocket("/ws")
    async def listen(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            await websocket.receive_text()
        except WebSocketDisconnect as leaving:
            raised.append(leaving.code)

    with TestClient(app).websocket_connect("/ws"):
        pass  # the client leaves at once
    assert raised == [1000]


def fact_websocket_testing() -> None:
    from fastapi import WebSocket

    app = FastAPI()

    @app.websocket("/ws")
    async def shout(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text((await websocket.receive_text()).upper())
        await websocket.close()

    with TestClient(app).websocket_connect("/ws") as ws:
        ws.send_text("hi")
        assert ws.receive_text() == "HI"


# Security


def fact_status_401() -> None:
    app = FastAPI()
    scheme = OAuth2PasswordBearer(tokenUrl="token")

    @app.get("/")
    def me(token: Annotated[str, Depends(scheme)]) -> str:
        return token

    response = TestClient(app).get("/")
    assert (response.status_code, response.headers["www-authenticate"]) == (401, "Bearer")


def fact_authentication() -> None:
    """The security classes extract credentials and declare their scheme; they verify
    nothing: any token, password or key reaches the route."""
    from fastapi.security import APIKeyHeader, HTTPBasic, HTTPBearer

    app = FastAPI()
    schemes = {
        "/oauth2": OAuth2PasswordBearer(tokenUrl="token"),
        "/bearer": HTTPBearer(),
        "/basic": HTTPBasic(),
        "/key": APIKeyHeader(name="X-Key"),
    }
    for path, scheme in schemes.items():
        app.get(path)(lambda credentials=Depends(scheme): str(credentials))  # noqa: B008

    client = TestClient(app)
    made_up = {"Authorization": "Bearer made-up", "X-Key": "made-up"}
    for path in ("/oauth2", "/bearer", "/key"):
        assert "made-up" in client.get(path, headers=made_up).json()
    assert "wrong" in client.get("/basic", auth=("anyone", "wrong")).json()
    declared = app.openapi()["components"]["securitySchemes"]
    assert set(declared) == {"OAuth2PasswordBearer", "HTTPBearer", "HTTPBasic", "APIKeyHeader"}


def fact_oauth2_password_request_form() -> None:
    assert not issubclass(OAuth2PasswordRequestForm, SecurityBase)
    app = FastAPI()

    @app.post("/token")
    def token(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict[str, str]:
        return {"username": form.username, "password": form.password}

    client = TestClient(app)
    login = {"username": "ada", "password": "pw"}
    assert client.post("/token", data=login).json() == login
    assert client.post("/token", json=login).status_code == 422  # a form, not JSON
    assert "securitySchemes" not in app.openapi().get("components", {})


def fact_forms_need_python_multipart() -> None:
    app = FastAPI()
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, "python_multipart", None)  # as if it were not installed
        patch.setitem(sys.modules, "multipart", None)
        with pytest.raises(RuntimeError, match="python-multipart"):

            @app.post("/login")
            def login(username: Annotated[str, Form()]) -> str:
                return username


def fact_oauth2_token_url() -> None:
    app = FastAPI()
    scheme = OAuth2PasswordBearer(tokenUrl="token")

    @app.get("/")
    def me(token: Annotated[str, Depends(scheme)]) -> str:
        return token

    flows = app.openapi()["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]
    assert flows["password"]["tokenUrl"] == "token"


def fact_optional_authentication() -> None:
    app = FastAPI()
    scheme = OAuth2PasswordBearer(tokenUrl="token", auto_error=False)

    @app.get("/")
    def maybe(token: Annotated[str | None, Depends(scheme)]) -> str | None:
        return token

    client = TestClient(app)
    assert client.get("/").json() is None
    assert client.get("/", headers={"Authorization": "Bearer t"}).json() == "t"


def fact_security_scopes() -> None:
    scheme = OAuth2PasswordBearer(tokenUrl="token", scopes={"items:read": "Read items"})

    def current_user(scopes: SecurityScopes, token: Annotated[str, Depends(scheme)]) -> str:
        if not set(scopes.scopes) <= set(token.split()):  # a toy token lists its scopes
            raise HTTPException(status_code=403)
        return "ada"

    app = FastAPI()

    @app.get("/items")
    def items(user: Annotated[str, Security(current_user, scopes=["items:read"])]) -> str:
        return user

    client = TestClient(app)
    assert client.get("/items", headers={"Authorization": "Bearer other"}).status_code == 403
    assert client.get("/items", headers={"Authorization": "Bearer items:read"}).json() == "ada"
    security = app.openapi()["paths"]["/items"]["get"]["security"]
    assert security == [{"OAuth2PasswordBearer": ["items:read"]}]


def fact_trusted_host_middleware() -> None:
    from fastapi.middleware.trustedhost import TrustedHostMiddleware

    app = FastAPI()
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["api.example.com"])
    app.get("/")(lambda: "ok")
    assert TestClient(app, base_url="http://evil.example").get("/").status_code == 400
    assert TestClient(app, base_url="http://api.example.com").get("/").status_code == 200


def fact_https_redirect_middleware() -> None:
    from fastapi.middleware.httpsredirect import HTTPSRedirectMiddleware

    app = FastAPI()
    app.add_middleware(HTTPSRedirectMiddleware)
    app.get("/")(lambda: "ok")
    client = TestClient(app, base_url="http://api.example.com")
    response = client.get("/a?b=1", follow_redirects=False)
    assert response.headers["location"] == "https://api.example.com/a?b=1"
    with pytest.raises(WebSocketDenialResponse) as denied, client.websocket_connect("/ws"):
        pass  # ws is redirected too: the handshake is answered with the redirect
    assert denied.value.headers["location"].startswith("wss://")


# Middleware and errors


def fact_error_handling() -> None:
    """HTTPException works from endpoints and dependencies; from middleware it is a 500."""

    def needs_login() -> None:
        raise HTTPException(status_code=401, detail="log in")

    app = FastAPI()

    @app.middleware("http")
    async def guard(request: Request, call_next: RequestResponseEndpoint) -> Response:
        if request.url.path == "/from-middleware":
            raise HTTPException(status_code=403, detail="no")
        return await call_next(request)

    @app.get("/from-endpoint")
    def from_endpoint() -> None:
        raise HTTPException(status_code=404, detail="Item not found")

    app.get("/from-dependency", dependencies=[Depends(needs_login)])(lambda: None)
    app.get("/from-middleware")(lambda: None)

    @app.get("/unhandled")
    def unhandled() -> None:
        raise ValueError("a bug")

    client = TestClient(app, raise_server_exceptions=False)
    endpoint = client.get("/from-endpoint")
    assert (endpoint.status_code, endpoint.json()) == (404, {"detail": "Item not found"})
    assert client.get("/from-dependency").status_code == 401
    assert client.get("/from-middleware").status_code == 500
    assert client.get("/unhandled").status_code == 500


def fact_middleware_order() -> None:
    order: list[str] = []

    class Named(BaseHTTPMiddleware):
        def __init__(self, app: Any, name: str) -> None:
            super().__init__(app)
            self.name = name

        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            order.append(f"{self.name} sees the request")
            response = await call_next(request)
            order.append(f"{self.name} sees the response")
            return response

    app = FastAPI()
    app.add_middleware(Named, name="added first")
    app.add_middleware(Named, name="added last")
    app.get("/")(lambda: "ok")
    TestClient(app).get("/")
    assert order == [
        "added last sees the request",
        "added first sees the request",
        "added first sees the response",
        "added last sees the response",
    ]


def fact_middleware_before_routing() -> None:
    seen: list[str] = []
    app = FastAPI()

    @app.middleware("http")
    async def log(request: Request, call_next: RequestResponseEndpoint) -> Response:
        seen.append(request.url.path)
        return await call_next(request)

    assert TestClient(app).get("/nowhere").status_code == 404
    assert seen == ["/nowhere"]


def handled_by(exception: type[Exception]) -> tuple[str, str]:
    """Which of the router's 404 and 405 a handler for ``exception`` catches."""
    app = FastAPI()

    async def mine(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("mine", status_code=getattr(exc, "status_code", 500))

    app.add_exception_handler(exception, mine)
    app.get("/only-get")(lambda: "ok")
    client = TestClient(app)
    return client.get("/missing").text, client.post("/only-get").text


def fact_catch_router_errors() -> None:
    assert issubclass(HTTPException, StarletteHTTPException)
    assert handled_by(HTTPException) == (
        '{"detail":"Not Found"}',
        '{"detail":"Method Not Allowed"}',
    )
    assert handled_by(StarletteHTTPException) == ("mine", "mine")


def fact_http_exception_detail() -> None:
    app = FastAPI()

    @app.get("/")
    def fail() -> None:
        raise HTTPException(status_code=400, detail={"code": "E42", "fields": ["price"]})

    assert TestClient(app).get("/").json() == {"detail": {"code": "E42", "fields": ["price"]}}


# OpenAPI


def fact_openapi_specification() -> None:
    app = FastAPI()
    app.get("/")(lambda: "ok")
    schema = TestClient(app).get("/openapi.json").json()
    assert schema == app.openapi()
    assert "/" in schema["paths"]


def fact_interactive_docs() -> None:
    default = TestClient(FastAPI())
    assert "swagger-ui" in default.get("/docs").text
    assert "redoc" in default.get("/redoc").text
    no_pages = TestClient(FastAPI(docs_url=None, redoc_url=None))
    assert [no_pages.get(p).status_code for p in ("/docs", "/redoc", "/openapi.json")] == [
        404,
        404,
        200,
    ]
    nothing = TestClient(FastAPI(openapi_url=None))
    assert {nothing.get(p).status_code for p in ("/docs", "/redoc", "/openapi.json")} == {404}


def fact_openapi_version() -> None:
    assert FastAPI().openapi()["openapi"] == "3.1.0"


def described_operation() -> dict[str, Any]:
    app = FastAPI()

    @app.get("/items")
    def read_items() -> list[str]:
        """Every item in the catalogue."""
        return []

    operation: dict[str, Any] = app.openapi()["paths"]["/items"]["get"]
    return operation


def fact_docstring_description() -> None:
    assert described_operation()["description"] == "Every item in the catalogue."


def fact_summary_from_name() -> None:
    assert described_operation()["summary"] == "Read Items"


def fact_hide_route_from_docs() -> None:
    app = FastAPI()
    app.get("/health", include_in_schema=False)(lambda: "ok")
    assert TestClient(app).get("/health").json() == "ok"
    assert "/health" not in app.openapi()["paths"]


def fact_app_openapi_method() -> None:
    app = FastAPI()
    schema = app.openapi()
    assert isinstance(schema, dict)
    assert app.openapi() is schema


FACTS: dict[str, Callable[[], None]] = {
    name.removeprefix("fact_").replace("_", "-"): function
    for name, function in dict(globals()).items()
    if name.startswith("fact_")
}


def bank_ids() -> set[str]:
    bank = yaml.safe_load((ROOT / "questions.yaml").read_text(encoding="utf-8"))
    return {note["id"] for topic in bank["topics"] for note in topic["questions"]}


def test_every_fact_belongs_to_a_note() -> None:
    """Each check is named after a note of the bank, so a failure points at the card."""
    assert sorted(set(FACTS) - bank_ids()) == []


@pytest.mark.parametrize("note_id", sorted(FACTS))
def test_fact_holds(note_id: str) -> None:
    """The note's claim is true of the pinned FastAPI, Starlette and Pydantic."""
    FACTS[note_id]()
