"""`release.parity` in `instep.yml`, pure: what a mobile release needs from the web deployed in
one environment. `orchestrator.spec.release.ReleaseSpec` holds it as its `parity` field, so its
errors are positioned in the file like every other key.

    release:
      parity:
        environment: production
        mode: api                       # api | train
        contracts: [orders, payments]   # the contract names the web declares (optional)
        requires_api: ">=2025-11"       # api mode: the deployed web's API version range
        requires_contracts: {orders: ">=3"}
        requires_features: [new_checkout]
        train: "{major}.{minor}"        # train mode: the web deployed the release's train
        max_lag: 14d                    # the release may trail the web by at most this

This module imports nothing else of ours but `ranges`, so the spec package can import it."""

from __future__ import annotations

import re
from contextvars import ContextVar
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, ModelWrapValidatorHandler, model_validator
from pydantic_core import PydanticCustomError

from orchestrator.parity.ranges import (
    InvalidRange,
    check_train_template,
    parse_contract_requirement,
    parse_range,
)

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}\Z")
_DURATION = re.compile(r"(?:\d+[dhms])+\Z")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
MAX_LAG_SECONDS = 365 * 86400


def _fail(message: str) -> PydanticCustomError:
    # The spec loader's error type: a finished user-facing message that it positions.
    return PydanticCustomError("instep", message)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if value is None:
        return "empty"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return repr(value)


def _name(what: str) -> Any:
    def check(value: Any) -> Any:
        if not isinstance(value, str) or not _NAME.match(value):
            raise _fail(
                f"{what} {value!r} is not a name (expected 1-100 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit)"
            )
        return value

    return check


def _api_range(value: Any) -> Any:
    if not isinstance(value, str):
        raise _fail(f'requires_api is {_kind(value)} (expected a quoted range such as ">=2025-11")')
    try:
        parse_range(value, "requires_api")
    except InvalidRange as exc:
        raise _fail(str(exc)) from None
    return value.strip()


def _contract_requirement(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        value = f">={value}"
    if not isinstance(value, str):
        raise _fail(f'a contract requirement is {_kind(value)} (expected a range such as ">=3" or a hash)')
    try:
        parse_contract_requirement(value, "contract")
    except InvalidRange as exc:
        raise _fail(str(exc)) from None
    return value.strip()


def _train(value: Any) -> Any:
    if not isinstance(value, str):
        raise _fail(f"train is {_kind(value)} (expected a template such as '{{major}}.{{minor}}')")
    try:
        return check_train_template(value)
    except InvalidRange as exc:
        raise _fail(str(exc)) from None


def lag_seconds(value: Any) -> Any:
    """`14d`, `36h`, `1d12h` or a number of seconds, as seconds."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _fail(f"max_lag is {_kind(value)} (expected a duration like 14d, 36h or 90m, or seconds)")
    if isinstance(value, str):
        text = value.strip().lower()
        if not _DURATION.match(text):
            raise _fail(f"max_lag {value!r} is not a duration (expected a duration like 14d, 36h or 1d12h)")
        value = sum(int(n) * _UNIT_SECONDS[u] for n, u in re.findall(r"(\d+)([dhms])", text))
    if not 0 <= value <= MAX_LAG_SECONDS:
        raise _fail(f"max_lag of {value}s is out of range (expected from 0 to 365d)")
    return value


# The contract names declared next to the key being validated, so the error about an unknown
# name is reported on that key (line and column of the name itself).
_DECLARED: ContextVar[tuple[str, ...] | None] = ContextVar("declared_contracts", default=None)


def _required_contract(value: Any) -> Any:
    value = _name("contract name")(value)
    declared = _DECLARED.get()
    if declared is not None and value not in declared:
        raise _fail(
            f"requires_contracts names unknown contract {value!r} "
            f"(expected one declared in release.parity.contracts: {', '.join(declared) or 'none'})"
        )
    return value


EnvironmentName = Annotated[str, BeforeValidator(_name("environment"))]
ContractName = Annotated[str, BeforeValidator(_name("contract name"))]
FeatureName = Annotated[str, BeforeValidator(_name("feature name"))]
ApiRange = Annotated[str, BeforeValidator(_api_range)]
ContractRequirementText = Annotated[str, BeforeValidator(_contract_requirement)]
Train = Annotated[str, BeforeValidator(_train)]
Lag = Annotated[int, BeforeValidator(lag_seconds)]
RequiredContract = Annotated[str, BeforeValidator(_required_contract)]


class ParitySpec(BaseModel):
    """The validated `release.parity`; `max_lag` is in seconds once validated.

    `contracts`, when given, declares the contract names the web provides: every name in
    `requires_contracts` must be one of them, so a misspelt name is an `instep validate` error
    instead of a gate that can never pass."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    environment: EnvironmentName = "production"
    mode: Literal["api", "train"] = "api"
    contracts: tuple[ContractName, ...] | None = None
    requires_api: ApiRange | None = None
    requires_contracts: dict[RequiredContract, ContractRequirementText] = {}
    requires_features: tuple[FeatureName, ...] = ()
    train: Train = "{major}.{minor}"
    max_lag: Lag | None = None

    @model_validator(mode="wrap")
    @classmethod
    def _with_declared(cls, data: Any, handler: ModelWrapValidatorHandler[ParitySpec]) -> ParitySpec:
        declared = data.get("contracts") if isinstance(data, dict) else None
        names = (
            tuple(declared)
            if isinstance(declared, list | tuple) and all(isinstance(n, str) for n in declared)
            else None
        )
        token = _DECLARED.set(names)
        try:
            return handler(data)
        finally:
            _DECLARED.reset(token)
