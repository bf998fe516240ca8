"""The Litestar application of ``promokit serve`` (docs/service.md).

Every route is a thin translation: read the body with promokit's own reader
(:mod:`.wire`), call the engine the :class:`~.holder.EngineHolder` holds at the
request's start, answer the DESIGN §5 JSON. Errors become problem documents
(:mod:`.problems`); API keys and scopes are checked by guards before a body is
read (:mod:`.keys`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import attrs
from litestar import Litestar, MediaType, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException, ValidationException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.params import Body, Parameter

from .. import __version__
from ..cart import Cart, Customer
from ..coupons import CouponBatch, generate_codes, is_well_formed
from ..engine import Engine
from ..errors import InputError, Problem, PromokitError, StoreError
from ..loading import parse_campaigns
from ..rules_text import rules_text
from ..text import LANGUAGES
from . import schemas
from .holder import EngineHolder, ServiceConfig
from .keys import ApiKey
from .problems import PROBLEM_MEDIA_TYPE, ProblemDocument, ServiceProblem, problem_of
from .wire import (
    CampaignBody,
    CartBody,
    CodesBody,
    GameActionBody,
    GenerateBody,
    Playing,
    RefundBody,
    Refunding,
    TryCodeBody,
    Trying,
)

__all__ = ["create_app"]

log = logging.getLogger("promokit.service")

JSON = MediaType.JSON
Id = Annotated[str, Parameter(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]


# -- plumbing ----------------------------------------------------------------------------


def _holder(connection: ASGIConnection[Any, Any, Any, Any]) -> EngineHolder:
    holder: EngineHolder = connection.app.state["holder"]
    return holder


def _presented(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        return token.strip() if scheme.lower() == "bearer" else None
    return connection.headers.get("x-api-key")


def needs(scope: str) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]:
    """A guard: the request's API key must grant ``scope``."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        key: ApiKey | None = _holder(connection).keys.find(_presented(connection))
        if key is None:
            raise ServiceProblem(401, "unauthenticated", "give a valid API key in "
                                 "'Authorization: Bearer KEY' or 'X-API-Key'",
                                 title="Unauthenticated",
                                 headers={"WWW-Authenticate": 'Bearer realm="promokit"'})
        if not key.allows(scope):
            raise ServiceProblem(403, "forbidden_scope", f"key {key.id!r} does not grant "
                                 f"the {scope!r} scope", title="Forbidden")
        connection.scope["state"]["key"] = key.id

    guard.__name__ = f"needs_{scope}"
    return guard


#: The routes that need a key: as a bearer token, or in ``X-API-Key``.
KEY: list[dict[str, list[str]]] = [{"bearer": []}, {"apiKey": []}]

def keyed(scope: str) -> dict[str, Any]:
    """A route's guard for ``scope`` and its security requirement in the document."""
    return {"guards": [needs(scope)], "security": KEY}


def _problem_response(problem: ServiceProblem) -> Response[Any]:
    return Response(content=json.dumps(problem.to_json(), ensure_ascii=False).encode(),
                    status_code=problem.status, media_type=PROBLEM_MEDIA_TYPE,
                    headers=problem.headers)


def _on_service_problem(_: Request[Any, Any, Any], error: ServiceProblem) -> Response[Any]:
    return _problem_response(error)


def _on_promokit_error(_: Request[Any, Any, Any], error: PromokitError) -> Response[Any]:
    return _problem_response(problem_of(error))


def _on_http_exception(_: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    status = error.status_code
    problems: list[Problem] = []
    if isinstance(error, ValidationException) and isinstance(error.extra, list):
        problems = [Problem(path=str(item.get("key", "")), message=str(item.get("message")))
                    for item in error.extra if isinstance(item, dict)]
    reason = {400: "bad_request", 404: "not_found", 405: "method_not_allowed",
              413: "too_large"}.get(status, "http_error")
    return _problem_response(ServiceProblem(status, reason, str(error.detail),
                                            problems=problems, headers=error.headers))


def _on_exception(_: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    log.exception("internal error")
    return _problem_response(ServiceProblem(500, "internal_error", "internal error "
                                            f"({type(error).__name__}); this is a bug in "
                                            "promokit or a plugin", title="Internal error"))


def _json(data: Any, status: int = 200) -> Response[Any]:
    return Response(content=json.dumps(data, ensure_ascii=False, default=str).encode(),
                    status_code=status, media_type=JSON)


def _known_order(engine: Engine, order_id: str) -> None:
    if engine.order(order_id) is None:
        raise ServiceProblem(404, "unknown_order", f"no order {order_id!r}",
                             title="Unknown order")


def _lang(lang: str | None) -> str | None:
    if lang is not None and lang not in LANGUAGES:
        raise InputError([Problem(path="lang", message=f"must be one of "
                                  f"{', '.join(LANGUAGES)}")], what="query")
    return lang


def _problems(*statuses: int) -> dict[int, ResponseSpec]:
    return {status: ResponseSpec(data_container=ProblemDocument, generate_examples=False,
                                 media_type=PROBLEM_MEDIA_TYPE, description=description)
            for status, description in _STATUSES.items() if status in statuses}


def _answers(doc: type[Any], description: str, *statuses: int) -> dict[int, ResponseSpec]:
    """The problem documents of ``statuses``, and 200 with ``doc``."""
    return {200: ResponseSpec(data_container=doc, generate_examples=False,
                              description=description), **_problems(*statuses)}


_STATUSES = {
    400: "malformed JSON, or an argument the route does not take",
    401: "no API key, or an unknown one",
    403: "the key does not grant the route's scope",
    404: "no such order, game or coupon batch",
    409: "the operation does not fit the order's or the game's state",
    413: "the body is larger than the input limits allow",
    422: "an invalid input: every problem by path",
    503: "the store is unavailable",
}
_COMMON = (400, 401, 403, 413, 422, 503)
_ORDER = (*_COMMON, 404, 409)

#: Bodies are JSON, read by the route's ``dto`` (:mod:`.wire`), never by Litestar.
_JSON = Body(media_type=RequestEncodingType.JSON)
CartIn = Annotated[Cart, _JSON]
Lang = Annotated[str | None, Parameter(description="en, zh-CN, zh-TW or zh-HK")]


# -- health ------------------------------------------------------------------------------


@get("/healthz", tags=["health"], sync_to_thread=False)
def healthz() -> dict[str, str]:
    """The process is up (no store access)."""
    return {"status": "ok"}


@get("/readyz", tags=["health"], sync_to_thread=True, responses=_problems(503))
def readyz(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The store answers and the campaigns are loaded."""
    engine = _holder(request).engine
    try:
        engine.store.order("promokit:readyz")
    except StoreError as error:
        raise ServiceProblem(503, "store_unavailable", f"store unavailable: {error}",
                             title="Store unavailable") from None
    return {"status": "ready", "campaign_version": engine.campaigns.version}


# -- pricing (scope price) ---------------------------------------------------------------


@post("/v1/evaluate", tags=["pricing"], **keyed("price"), dto=CartBody, return_dto=None,
      status_code=200, sync_to_thread=True,
      responses=_answers(schemas.PriceResult, "the result of DESIGN §5", *_COMMON))
def evaluate(request: Request[Any, Any, Any], data: CartIn, lang: Lang = None) -> Response[Any]:
    """Price a cart (DESIGN §5) under the campaigns; the result JSON of DESIGN §5.
    Writes nothing but a wrong coupon code's count against the customer."""
    result = _holder(request).engine.evaluate(data, lang=_lang(lang))
    return Response(content=result.to_json_text(indent=None).encode(), media_type=JSON)


@get("/v1/rules", tags=["pricing"], **keyed("price"), sync_to_thread=True,
     responses=_problems(401, 403, 422))
def rules(request: Request[Any, Any, Any], lang: Lang = None) -> dict[str, str]:
    """The customer-facing rule text (活動規則) of the running campaigns."""
    chosen = _lang(lang) or "zh-CN"
    return {"lang": chosen, "text": rules_text(_holder(request).engine.campaigns, chosen)}


@post("/v1/coupons/try", tags=["coupons"], **keyed("price"), dto=TryCodeBody,
      return_dto=None, status_code=200, sync_to_thread=True, responses=_problems(*_COMMON))
def try_code(request: Request[Any, Any, Any], data: Annotated[Trying, _JSON], lang: Lang = None
             ) -> dict[str, Any]:
    """Check a code a customer typed; a wrong one counts against them (throttled)."""
    checked = _holder(request).engine.try_code(data.code, customer=data.customer,
                                               lang=_lang(lang))
    return attrs.asdict(checked)


# -- orders (scope checkout) -------------------------------------------------------------


@post("/v1/orders/{order_id:str}/checkout", tags=["orders"], **keyed("checkout"),
      dto=CartBody, return_dto=None, status_code=200, sync_to_thread=True,
      responses=_answers(schemas.Order, "the order, reserved (or the first answer again)",
                         *_ORDER))
def checkout(request: Request[Any, Any, Any], order_id: Id, data: CartIn,
             ttl: Annotated[float | None, Parameter(gt=0, le=86400)] = None,
             lang: Lang = None) -> Response[Any]:
    """Price the cart and reserve all it consumes, all or nothing. The same order id
    never reserves twice: a repeat answers the first order, with the header
    ``Idempotent-Replayed: true``."""
    order = _holder(request).engine.checkout(data, order_id, ttl=ttl, lang=_lang(lang))
    response = _json(order.to_json())
    if order.repeated:  # the order JSON stays DESIGN's; a repeat is said in a header
        response.headers["Idempotent-Replayed"] = "true"
    return response


@get("/v1/orders/{order_id:str}", tags=["orders"], **keyed("checkout"),
     sync_to_thread=True,
     responses=_answers(schemas.Order, "the stored order", 401, 403, 404, 503))
def order(request: Request[Any, Any, Any], order_id: Id) -> Response[Any]:
    """A stored order."""
    found = _holder(request).engine.order(order_id)
    if found is None:
        raise ServiceProblem(404, "unknown_order", f"no order {order_id!r}",
                             title="Unknown order")
    return _json(found.to_json())


@post("/v1/orders/{order_id:str}/commit", tags=["orders"], **keyed("checkout"),
      status_code=200, sync_to_thread=True,
      responses=_answers(schemas.Order, "the order, committed", *_ORDER))
def commit(request: Request[Any, Any, Any], order_id: Id) -> Response[Any]:
    """The order is paid: its reservation becomes final, its redemptions go to the
    ledger. A repeat answers the committed order."""
    engine = _holder(request).engine
    _known_order(engine, order_id)
    return _json(engine.commit(order_id).to_json())


@post("/v1/orders/{order_id:str}/release", tags=["orders"], **keyed("checkout"),
      status_code=200, sync_to_thread=True,
      responses=_answers(schemas.Order, "the order, released", *_ORDER))
def release(request: Request[Any, Any, Any], order_id: Id) -> Response[Any]:
    """The order was cancelled before payment: give back what it holds."""
    engine = _holder(request).engine
    _known_order(engine, order_id)
    return _json(engine.release(order_id).to_json())


@post("/v1/orders/{order_id:str}/refunds/{refund_id:str}", tags=["orders"],
      **keyed("checkout"), dto=RefundBody, return_dto=None, status_code=200,
      sync_to_thread=True, responses=_answers(schemas.Refund, "the refund", *_ORDER))
def refund(request: Request[Any, Any, Any], order_id: Id, refund_id: Id,
           data: Annotated[Refunding | None, _JSON] = None) -> Response[Any]:
    """Refund units of a committed order (all not yet refunded if ``units`` is not
    given). The same refund id never refunds twice."""
    engine = _holder(request).engine
    _known_order(engine, order_id)
    asked = data or Refunding(units=None, policy="proportional")
    done = engine.refund(order_id, refund_id, asked.units, policy=asked.policy)
    return _json(done.to_json())


# -- admin -------------------------------------------------------------------------------


@post("/v1/sweep", tags=["admin"], **keyed("admin"), status_code=200,
      sync_to_thread=True, responses=_problems(400, 401, 403, 503))
def sweep(request: Request[Any, Any, Any],
          limit: Annotated[int, Parameter(ge=1, le=10_000)] = 500) -> dict[str, Any]:
    """Expire lapsed reservations and games' lapsed rows (at most ``limit``)."""
    report = _holder(request).engine.orders.sweep_report(limit)
    return {"expired": list(report.expired),
            "quarantined": [{"order_id": o, "detail": d} for o, d in report.quarantined]}


@get("/v1/ledger", tags=["admin"], **keyed("admin"), sync_to_thread=True,
     responses=_problems(400, 401, 403, 422, 503))
def ledger(request: Request[Any, Any, Any],
           order: Annotated[str | None, Parameter(max_length=200)] = None,
           promotion: Annotated[str | None, Parameter(max_length=200)] = None,
           since: Annotated[str | None, Parameter(description="ISO 8601, inclusive")] = None,
           until: Annotated[str | None, Parameter(description="ISO 8601, exclusive")] = None,
           limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
           cursor: Annotated[str | None, Parameter(
               description="next_cursor of the page before")] = None) -> dict[str, Any]:
    """The redemption ledger, oldest first, a page at a time."""
    start = _cursor(cursor)
    # One entry past the page, read by the store itself, says whether there is more.
    entries = _holder(request).engine.store.ledger(
        order_id=order, promotion=promotion, since=_time(since, "since"),
        until=_time(until, "until"), offset=start, limit=limit + 1)
    page = entries[:limit]
    more = len(entries) > limit
    return {"entries": [e.to_json() for e in page],
            "next_cursor": str(start + limit) if more else None}


@get("/v1/orders/{order_id:str}/replay", tags=["admin"], **keyed("admin"),
     sync_to_thread=True, responses=_problems(401, 403, 404, 409, 503))
def replay(request: Request[Any, Any, Any], order_id: Id) -> dict[str, Any]:
    """Price a stored order again from its record, and compare."""
    engine = _holder(request).engine
    _known_order(engine, order_id)
    done = engine.replay(order_id)
    return {"order_id": order_id, "matches": done.matches,
            "differences": list(done.differences), "result": done.result.to_json()}


@post("/v1/validate", tags=["admin"], **keyed("admin"), dto=CampaignBody,
      return_dto=None, status_code=200, sync_to_thread=True, responses=_problems(*_COMMON))
def validate(request: Request[Any, Any, Any],
             data: Annotated[dict[str, Any], _JSON]) -> dict[str, Any]:
    """Check a campaign document (JSON, or TOML with ``Content-Type:
    application/toml``): every problem by path, as ``promokit validate``."""
    holder = _holder(request)
    campaigns = parse_campaigns(data, holder.registry, limits=holder.config.limits)
    promotions = [p for p in campaigns.promotions if p.kind != "game_price"]
    return {"ok": True, "campaigns": len(campaigns.campaigns),
            "promotions": len(promotions), "games": len(campaigns.games),
            "version": campaigns.version}


def _batch(engine: Engine, batch_id: str) -> CouponBatch:
    batch = engine.campaigns.coupon(batch_id)
    if batch is None:
        raise ServiceProblem(404, "unknown_batch", f"no coupon batch {batch_id!r}",
                             title="Unknown coupon batch")
    return batch


def _register(engine: Engine, batch: CouponBatch, codes: list[str]) -> dict[str, Any]:
    added = engine.store.add_codes(batch.id, codes, batch.uses)
    if added.conflicts:
        raise ServiceProblem(409, "code_conflict", f"{len(added.conflicts)} code(s) belong "
                             "to another batch; nothing was registered",
                             problems=[Problem(path="codes", message=c)
                                       for c in added.conflicts[:20]])
    return {"batch": batch.id, "added": added.added, "existing": added.existing}


@post("/v1/coupons/{batch_id:str}/generate", tags=["coupons"], **keyed("admin"),
      dto=GenerateBody, return_dto=None, status_code=200, sync_to_thread=True,
      responses=_problems(*_ORDER))
def generate(request: Request[Any, Any, Any], batch_id: Id,
             data: Annotated[int | None, _JSON] = None) -> dict[str, Any]:
    """Generate new codes for a batch and register them."""
    engine = _holder(request).engine
    batch = _batch(engine, batch_id)
    if batch.external:
        raise InputError([Problem(path="batch", message=f"batch {batch.id!r} is external: "
                                  "import its codes instead")], what="coupon batch")
    count = data if data is not None else batch.count
    if count is None:
        raise InputError([Problem(path="count", message="give a count (the batch sets "
                                  "none)")], what="coupon batch")
    codes = generate_codes(count, batch.prefix)
    return {**_register(engine, batch, codes), "codes": codes}


@post("/v1/coupons/{batch_id:str}/import", tags=["coupons"], **keyed("admin"),
      dto=CodesBody, return_dto=None, status_code=200, sync_to_thread=True,
      responses=_problems(*_ORDER))
def import_codes(request: Request[Any, Any, Any], batch_id: Id,
                 data: Annotated[list[str], _JSON]) -> dict[str, Any]:
    """Register codes made elsewhere, all or nothing."""
    engine = _holder(request).engine
    batch = _batch(engine, batch_id)
    if not batch.external:
        bad = [Problem(path=f"codes[{i}]", message=f"{code!r} fails its check character "
                       "(mark the batch external = true for codes made elsewhere)")
               for i, code in enumerate(data) if not is_well_formed(code)]
        if bad:
            raise InputError(bad, what="codes")
    return _register(engine, batch, data)


# -- games -------------------------------------------------------------------------------


def _game(engine: Engine, game_id: str) -> Any:
    try:
        return engine.games[game_id]
    except KeyError:
        raise ServiceProblem(404, "unknown_game", f"no game {game_id!r}",
                             title="Unknown game") from None


@get("/v1/games", tags=["games"], **keyed("price"), sync_to_thread=False,
     responses=_problems(401, 403))
def games(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    """The games of the running campaigns and the actions each takes."""
    return [{"id": spec.id, "kind": spec.kind, "name": spec.name,
             "actions": dict(spec.kind_impl.actions)}
            for spec in _holder(request).engine.campaigns.games]


@get("/v1/games/{game_id:str}/rules", tags=["games"], **keyed("price"),
     sync_to_thread=True, responses=_problems(401, 403, 404, 422))
def game_rules(request: Request[Any, Any, Any], game_id: Id, lang: Lang = None
               ) -> dict[str, str]:
    """A game's disclosure (odds, prizes, organiser)."""
    chosen = _lang(lang) or "zh-CN"
    return {"lang": chosen,
            "text": _game(_holder(request).engine, game_id).disclosure(chosen)}


@post("/v1/games/{game_id:str}/actions/{action:str}", tags=["games"],
      **keyed("checkout"), dto=GameActionBody, return_dto=None, status_code=200,
      sync_to_thread=True, responses=_problems(*_ORDER))
def play(request: Request[Any, Any, Any], game_id: Id, action: Id,
         data: Annotated[Playing | None, _JSON] = None) -> Response[Any]:
    """Play one action of a game (``draw``, ``join``, ``help`` …; see ``GET
    /v1/games``) at the service's time."""
    game = _game(_holder(request).engine, game_id)
    actions = game.spec.kind_impl.actions
    if action not in actions:
        raise ServiceProblem(404, "unknown_action", f"game {game_id!r} ({game.spec.kind}) "
                             f"has no action {action!r}; actions: "
                             f"{', '.join(actions) or 'none'}", title="Unknown action")
    playing = data or Playing(customer=Customer(), args={})
    return _json(game.act(action, playing.customer, playing.args))


@post("/v1/games/{game_id:str}/reveal", tags=["games"], **keyed("admin"),
      status_code=200, sync_to_thread=True, responses=_problems(*_ORDER))
def reveal(request: Request[Any, Any, Any], game_id: Id) -> Response[Any]:
    """End a game's chance and publish its server seed (again: the same answer)."""
    game = _game(_holder(request).engine, game_id)
    game.reveal()
    return _json(game.published())


@get("/v1/games/{game_id:str}/log", tags=["games"], **keyed("admin"),
     media_type="application/x-ndjson", sync_to_thread=True,
     responses=_problems(401, 403, 404, 409, 503))
def game_log(request: Request[Any, Any, Any], game_id: Id) -> str:
    """A game's draw log, JSON lines (``promokit game verify`` checks it)."""
    text: str = _game(_holder(request).engine, game_id).draw_log().dumps()
    return text


# -- helpers -----------------------------------------------------------------------------


def _cursor(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not (cursor.isascii() and cursor.isdigit()) or len(cursor) > 12:
        raise InputError([Problem(path="cursor", message="is not a cursor this service "
                                  "gave")], what="query")
    return int(cursor)


def _time(text: str | None, name: str) -> Any:
    from datetime import datetime

    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InputError([Problem(path=name, message=f"{text!r} is not an ISO 8601 time")],
                         what="query") from None
    if value.tzinfo is None:
        raise InputError([Problem(path=name, message=f"{text!r} needs an offset (+08:00, Z)")],
                         what="query")
    return value


# -- the application ---------------------------------------------------------------------

ROUTES = [healthz, readyz, evaluate, rules, try_code, checkout, order, commit, release, refund,
          sweep, ledger, replay, validate, generate, import_codes, games, game_rules, play,
          reveal, game_log]


def create_app(config: ServiceConfig | None = None, *,
               holder: EngineHolder | None = None) -> Litestar:
    """The service's ASGI application for ``config`` (or an existing ``holder``).
    Loads the campaign files, the keys and opens the store now, so a bad one fails
    before the first request."""
    if holder is None:
        if config is None:
            raise ValueError("give a config or a holder")
        holder = EngineHolder(config)
    held = holder

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        tasks: list[asyncio.Task[Any]] = []

        def reload() -> None:
            tasks.append(loop.create_task(asyncio.to_thread(held.reload)))

        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGHUP, reload)
        if held.config.watch:
            tasks.append(loop.create_task(_watch(held)))
        try:
            yield
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(signal.SIGHUP)
            for task in tasks:
                task.cancel()
            held.close()

    return Litestar(
        route_handlers=ROUTES,
        state=State({"holder": held, "limits": held.config.limits}),
        lifespan=[lifespan],
        exception_handlers={ServiceProblem: _on_service_problem,
                            PromokitError: _on_promokit_error,
                            HTTPException: _on_http_exception,
                            Exception: _on_exception},
        request_max_body_size=max(held.config.limits.max_document_bytes,
                                  held.config.limits.max_campaign_bytes),
        openapi_config=OpenAPIConfig(
            title="promokit", version=__version__,
            description="Promotion pricing, checkout, games and coupons over HTTP "
                        "(docs/service.md). Bodies and results are DESIGN §5 JSON; "
                        "errors are RFC 9457 problem documents.",
            path="/schema", render_plugins=[JsonRenderPlugin()],
            components=Components(security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer",
                                         description="an API key (docs/service.md)"),
                "apiKey": SecurityScheme(type="apiKey", name="X-API-Key",
                                         security_scheme_in="header",
                                         description="the same key, in a header")})),
        debug=False,
    )


async def _watch(holder: EngineHolder) -> None:
    """Reload when a watched file changes (its directory is watched: editors replace
    files rather than write them)."""
    from watchfiles import awatch

    files = {str(path) for path in holder.config.watched}
    folders = sorted({str(path.parent) for path in holder.config.watched})
    async for _ in awatch(*folders, debounce=200, recursive=False,
                          watch_filter=lambda _change, path: path in files):
        await asyncio.to_thread(holder.reload)
