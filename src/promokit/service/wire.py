"""Request bodies: their documented shapes and how they are read.

The service reads every body itself, with promokit's own readers
(:meth:`Cart.from_json <promokit.cart.Cart.from_json>`, the campaign loader, …),
so that a bad one is refused with every problem by path, exactly as the CLI
reports it, and within :class:`~promokit.inputs.InputLimits`. Litestar does
not parse them: each body is declared through a :class:`WireBody` data
transfer object whose ``create_openapi_schema`` documents the attrs class
below that describes the DESIGN §5 JSON, and whose ``decode_bytes`` runs the
reader. The OpenAPI document is thus generated from these types while the
formats stay the library's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Mapping
from typing import Any, ClassVar, Literal

import attrs
from litestar.dto import AbstractDTO, DTOConfig, DTOFieldDefinition
from litestar.openapi.spec import Reference, Schema
from litestar.typing import FieldDefinition

from ..cart import Cart, Customer
from ..errors import InputError, Problem
from ..inputs import DEFAULT_LIMITS, InputLimits, decode_json, decode_toml
from . import schemas
from .problems import ServiceProblem

__all__ = [
    "CampaignBody",
    "CartBody",
    "CodesBody",
    "GameActionBody",
    "GenerateBody",
    "RefundBody",
    "TryCodeBody",
    "WireBody",
]


# -- the readers -------------------------------------------------------------------------


class _BodyError(InputError):
    what = "request body"


@attrs.frozen(kw_only=True)
class Refunding:
    units: dict[str, int] | None
    policy: Literal["proportional", "reevaluate"]


@attrs.frozen(kw_only=True)
class Playing:
    customer: Customer
    args: dict[str, str]


@attrs.frozen(kw_only=True)
class Trying:
    code: str
    customer: str | None


def read_json(body: bytes, limits: InputLimits, *, empty: Any = None) -> Any:
    """The JSON of ``body`` within ``limits``: 413 if too large, 400 if malformed."""
    if len(body) > limits.max_document_bytes:
        raise ServiceProblem(413, "too_large", f"the request body is {len(body):,} bytes; "
                             f"at most {limits.max_document_bytes:,}", title="Too large")
    if not body.strip() and empty is not None:
        return empty
    try:
        return decode_json(body, error=_BodyError, limits=limits)
    except InputError as error:
        raise ServiceProblem(400, "malformed_json", "the request body is not a JSON "
                             "document promokit can read", problems=error.problems,
                             title="Malformed JSON") from None


def _object(data: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise InputError([Problem(path="", message="must be a JSON object")], what=what)
    return data


def _unknown(data: Mapping[str, Any], known: set[str], problems: list[Problem]) -> None:
    problems.extend(Problem(path=str(key), message="unknown key")
                    for key in sorted(set(data) - known, key=str))


def read_cart(body: bytes, limits: InputLimits) -> Cart:
    return Cart.from_json(_object(read_json(body, limits), "cart"), limits=limits)


def read_refund(body: bytes, limits: InputLimits) -> Refunding:
    data = _object(read_json(body, limits, empty={}), "refund")
    problems: list[Problem] = []
    _unknown(data, {"units", "policy"}, problems)
    units = data.get("units")
    if units is not None:
        if not isinstance(units, Mapping):
            problems.append(Problem(path="units", message="must be an object of line id → "
                                    "units"))
            units = None
        else:
            for line, count in units.items():
                if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                    problems.append(Problem(path=f"units.{line}",
                                            message="must be a positive whole number"))
    policy = data.get("policy", "proportional")
    if policy not in ("proportional", "reevaluate"):
        problems.append(Problem(path="policy", message="must be 'proportional' or "
                                "'reevaluate'"))
    if problems:
        raise InputError(problems, what="refund")
    return Refunding(units=dict(units) if units is not None else None, policy=policy)


def read_play(body: bytes, limits: InputLimits) -> Playing:
    data = _object(read_json(body, limits, empty={}), "game action")
    problems: list[Problem] = []
    _unknown(data, {"customer", "args"}, problems)
    args = data.get("args") or {}
    if not isinstance(args, Mapping) or not all(isinstance(v, str) for v in args.values()):
        problems.append(Problem(path="args", message="must be an object of strings"))
        args = {}
    customer_data = data.get("customer") or {}
    if not isinstance(customer_data, Mapping):
        problems.append(Problem(path="customer", message="must be a JSON object"))
        customer_data = {}
    if problems:
        raise InputError(problems, what="game action")
    return Playing(customer=Customer.from_json(customer_data), args=dict(args))


def read_try(body: bytes, limits: InputLimits) -> Trying:
    data = _object(read_json(body, limits), "code")
    problems: list[Problem] = []
    _unknown(data, {"code", "customer"}, problems)
    code, customer = data.get("code"), data.get("customer")
    if not isinstance(code, str) or not code:
        problems.append(Problem(path="code", message="must be a non-empty string"))
    if customer is not None and not isinstance(customer, str):
        problems.append(Problem(path="customer", message="must be a string"))
    if problems:
        raise InputError(problems, what="code")
    return Trying(code=str(code), customer=customer)


def read_count(body: bytes, limits: InputLimits) -> int | None:
    data = _object(read_json(body, limits, empty={}), "coupon batch")
    problems: list[Problem] = []
    _unknown(data, {"count"}, problems)
    count = data.get("count")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int)
                              or not 1 <= count <= 10_000):
        problems.append(Problem(path="count", message="must be a whole number from 1 to "
                                "10,000 (per request)"))
    if problems:
        raise InputError(problems, what="coupon batch")
    return count


def read_codes(body: bytes, limits: InputLimits) -> list[str]:
    data = _object(read_json(body, limits), "codes")
    problems: list[Problem] = []
    _unknown(data, {"codes"}, problems)
    codes = data.get("codes")
    if not isinstance(codes, list) or not codes:
        problems.append(Problem(path="codes", message="must list at least one code"))
        codes = []
    for index, code in enumerate(codes):
        if not isinstance(code, str) or not code.strip():
            problems.append(Problem(path=f"codes[{index}]", message="must be a non-empty "
                                    "string"))
    if problems:
        raise InputError(problems, what="codes")
    return [str(code) for code in codes]


def read_campaign_document(body: bytes, limits: InputLimits, toml: bool) -> dict[str, Any]:
    if len(body) > limits.max_campaign_bytes:
        raise ServiceProblem(413, "too_large", f"the request body is {len(body):,} bytes; "
                             f"at most {limits.max_campaign_bytes:,}", title="Too large")
    try:
        data: Any = (decode_toml(body.decode("utf-8"), error=_BodyError, limits=limits)
                     if toml else decode_json(body, error=_BodyError, limits=limits,
                                              max_bytes=limits.max_campaign_bytes))
    except (InputError, ValueError) as error:
        problems = (error.problems if isinstance(error, InputError)
                    else (Problem(path="", message=f"not valid TOML: {error}"),))
        raise ServiceProblem(400, "malformed_json" if not toml else "malformed_toml",
                             "the request body is not a campaign document promokit can "
                             "read", problems=problems, title="Malformed document") from None
    return dict(_object(data, "campaign file"))


# -- the data transfer objects -----------------------------------------------------------


class WireBody(AbstractDTO[Any]):
    """A request body documented by ``doc`` and read by ``read`` (never by Litestar's
    own decoding). Subclasses set both."""

    config: ClassVar[DTOConfig] = DTOConfig()
    doc: ClassVar[type[Any]]

    @staticmethod
    def read(body: bytes, limits: InputLimits) -> Any:
        raise NotImplementedError

    @classmethod
    def generate_field_definitions(
            cls, model_type: type[Any]) -> Generator[DTOFieldDefinition, None, None]:
        yield from ()

    @classmethod
    def detect_nested_field(cls, field_definition: FieldDefinition) -> bool:
        return False

    @classmethod
    def create_for_field_definition(cls, field_definition: FieldDefinition, handler_id: str,
                                    backend_cls: Any = None) -> None:
        return None  # nothing to build: ``decode_bytes`` reads the body itself

    @classmethod
    def create_openapi_schema(cls, field_definition: FieldDefinition, handler_id: str,
                              schema_creator: Any) -> Reference | Schema:
        schema: Reference | Schema = schema_creator.for_field_definition(
            FieldDefinition.from_annotation(cls.doc))
        return schema

    def decode_bytes(self, value: bytes) -> Any:
        limits: InputLimits = self.asgi_connection.app.state.get("limits", DEFAULT_LIMITS)
        return type(self).read(value, limits)

    def decode_builtins(self, value: dict[str, Any]) -> Any:
        return type(self).read(json.dumps(value).encode(), DEFAULT_LIMITS)


def _body(name: str, doc: type[Any], read: Callable[[bytes, InputLimits], Any]
          ) -> type[WireBody]:
    """A :class:`WireBody` documented by ``doc`` and read by ``read``."""
    body: type[WireBody] = type(name, (WireBody,), {"doc": doc, "read": staticmethod(read),
                                                     "__module__": __name__})
    return body


CartBody = _body("CartBody", schemas.Cart, read_cart)
RefundBody = _body("RefundBody", schemas.RefundRequest, read_refund)
GameActionBody = _body("GameActionBody", schemas.GameAction, read_play)
TryCodeBody = _body("TryCodeBody", schemas.CodeAttempt, read_try)
GenerateBody = _body("GenerateBody", schemas.CodeCount, read_count)
CodesBody = _body("CodesBody", schemas.Codes, read_codes)


class CampaignBody(WireBody):
    doc = schemas.CampaignDocument

    @staticmethod
    def read(body: bytes, limits: InputLimits) -> Any:
        return read_campaign_document(body, limits, toml=False)

    def decode_bytes(self, value: bytes) -> Any:
        limits: InputLimits = self.asgi_connection.app.state.get("limits", DEFAULT_LIMITS)
        content_type = self.asgi_connection.headers.get("content-type", "")
        return read_campaign_document(value, limits, toml="toml" in content_type)
