"""The `release:` section of `instep.yml`: how a release is cut, who must approve it, and when it
may not ship (freeze windows, soak time). Pure: parsing and time arithmetic, no clock reads.

    release:
      from_tags: "v*"                 # a matching tag push cuts a release; version from the tag
      platforms_together: true        # iOS and Android pass the gate together
      approvals: {qa: 1, release_manager: 1}
      four_eyes: true                 # approvers may not be the person who pushed or cut it
      freeze: ["Fri 16:00-Mon 08:00 Europe/Berlin", "2026-12-20..2027-01-03"]
      soak: 24h
      version_scheme: semver          # or calver
      build_number_option: {android: version_code}
      protected_refs: [refs/heads/main, "refs/tags/v*"]   # store credentials only for these
      store:                          # the `submit` stage's store adapters
        google_play: {package_name: dev.instep.sample, track: production}
        app_store: {app_id: "1234567890"}
        base_url: http://127.0.0.1:8765   # only to point both stores at the simulator
      rollout: {stages: [1, 5, 20, 50, 100], every: 24h}   # Play staged rollout, in percent
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool
from pydantic_core import PydanticCustomError

from orchestrator.parity.spec import ParitySpec
from orchestrator.spec.document import describe

if TYPE_CHECKING:
    from orchestrator.spec.model import PipelineSpec

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
APPROVAL_ROLES = ("qa", "release_manager")
MAX_APPROVALS = 5
DEFAULT_BUILD_NUMBER_OPTION = "build_number"
FREEZE_EXAMPLES = "'Fri 16:00-Mon 08:00 Europe/Berlin' or '2026-12-20..2027-01-03'"

_WEEKLY = re.compile(
    r"(?P<d1>[A-Za-z]{3})\s+(?P<t1>\d{1,2}:\d{2})\s*-\s*(?P<d2>[A-Za-z]{3})\s+(?P<t2>\d{1,2}:\d{2})"
    r"(?:\s+(?P<tz>\S+))?\Z"
)
_DATES = re.compile(r"(?P<a>\d{4}-\d{2}-\d{2})\s*\.\.\s*(?P<b>\d{4}-\d{2}-\d{2})(?:\s+(?P<tz>\S+))?\Z")
_DURATION = re.compile(r"(?:\d+[dhms])+\Z")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_OPTION = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
MINUTES_PER_WEEK = 7 * 24 * 60


def _fail(message: str) -> PydanticCustomError:
    # Same error type as spec/model.py: a finished user-facing message the loader positions.
    return PydanticCustomError("instep", message)


def _zone(name: str | None, text: str) -> ZoneInfo:
    if name is None:
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _fail(
            f"freeze window {text!r} names an unknown time zone {name!r} "
            "(expected an IANA name such as Europe/Berlin, America/New_York or UTC)"
        ) from None


def _minute_of_week(day: str, clock: str, text: str) -> int:
    name = day[:1].upper() + day[1:].lower()
    if name not in DAYS:
        raise _fail(f"freeze window {text!r}: {day!r} is not a weekday (expected one of: {', '.join(DAYS)})")
    hours, minutes = (int(part) for part in clock.split(":"))
    if hours > 23 or minutes > 59:
        raise _fail(
            f"freeze window {text!r}: {clock!r} is not a time of day (expected HH:MM from 00:00 to 23:59)"
        )
    return DAYS.index(name) * 1440 + hours * 60 + minutes


@dataclass(frozen=True)
class WeeklyFreeze:
    """Every week from one weekday and time to another, in a time zone (may wrap over Sunday)."""

    text: str
    start: int  # minute of the week, Monday 00:00 = 0
    end: int
    zone: str

    def active(self, now: datetime) -> bool:
        minute = _week_minute(now.astimezone(ZoneInfo(self.zone)))
        if self.start <= self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end

    def ends_after(self, now: datetime) -> datetime:
        """When the window that is active at `now` closes."""
        local = now.astimezone(ZoneInfo(self.zone))
        ahead = (self.end - _week_minute(local)) % MINUTES_PER_WEEK
        end = local.replace(second=0, microsecond=0) + timedelta(minutes=ahead)
        return end.astimezone(UTC)


@dataclass(frozen=True)
class DateFreeze:
    """Whole days from `first` to `last` inclusive, in a time zone (UTC unless named)."""

    text: str
    first: date
    last: date
    zone: str

    def active(self, now: datetime) -> bool:
        return self.first <= now.astimezone(ZoneInfo(self.zone)).date() <= self.last

    def ends_after(self, now: datetime) -> datetime:
        day_after = self.last + timedelta(days=1)
        return datetime(
            day_after.year, day_after.month, day_after.day, tzinfo=ZoneInfo(self.zone)
        ).astimezone(UTC)


FreezeWindow = WeeklyFreeze | DateFreeze


def _week_minute(local: datetime) -> int:
    return local.weekday() * 1440 + local.hour * 60 + local.minute


def parse_freeze(text: str) -> FreezeWindow:
    """A freeze window from its `instep.yml` text; raises the loader's positioned error type."""
    stripped = text.strip()
    if m := _WEEKLY.match(stripped):
        zone = _zone(m["tz"], text)
        start = _minute_of_week(m["d1"], m["t1"], text)
        end = _minute_of_week(m["d2"], m["t2"], text)
        if start == end:
            raise _fail(f"freeze window {text!r} starts and ends at the same time (expected a span of time)")
        return WeeklyFreeze(stripped, start, end, zone.key)
    if m := _DATES.match(stripped):
        zone = _zone(m["tz"], text)
        try:
            first, last = date.fromisoformat(m["a"]), date.fromisoformat(m["b"])
        except ValueError as exc:
            raise _fail(f"freeze window {text!r} has an invalid date ({exc}; expected YYYY-MM-DD)") from None
        if last < first:
            raise _fail(f"freeze window {text!r} ends before it starts (expected the earlier date first)")
        return DateFreeze(stripped, first, last, zone.key)
    raise _fail(f"freeze window {text!r} is not in a known format (expected {FREEZE_EXAMPLES})")


def _freeze_text(value: Any) -> Any:
    if not isinstance(value, str):
        raise _fail(f"freeze window is {describe(value)} (expected a string like {FREEZE_EXAMPLES})")
    parse_freeze(value)
    return value.strip()


def _soak_seconds(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _fail(f"soak is {describe(value)} (expected a duration like 24h, 2d or 90m, or seconds)")
    if isinstance(value, str):
        text = value.strip().lower()
        if not _DURATION.match(text):
            raise _fail(f"soak {value!r} is not a duration (expected a duration like 24h, 2d, 1d12h or 90m)")
        value = sum(int(n) * _UNIT_SECONDS[u] for n, u in re.findall(r"(\d+)([dhms])", text))
    if not 0 <= value <= 90 * 86400:
        raise _fail(f"soak of {value}s is out of range (expected from 0 to 90d)")
    return value


def _approval_count(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_APPROVALS:
        raise _fail(
            f"approval count is {value if isinstance(value, int) else describe(value)} "
            f"(expected an integer from 0 to {MAX_APPROVALS})"
        )
    return value


def _tags(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _option_name(value: Any) -> Any:
    if not isinstance(value, str) or not _OPTION.match(value):
        raise _fail(
            f"build number option {value!r} is not a lane option name "
            "(expected letters, digits and _, not starting with a digit)"
        )
    return value


def _rollout_stages(value: Any) -> Any:
    if not isinstance(value, list | tuple) or not value:
        raise _fail(
            f"rollout stages are {describe(value)} (expected a list of percentages like [1, 5, 20, 50, 100])"
        )
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | float) or not 0 < item <= 100:
            raise _fail(
                f"rollout stage {item!r} is not a percentage (expected a number above 0 and at most 100)"
            )
    if list(value) != sorted(set(value)):
        raise _fail(f"rollout stages {list(value)} must go up (expected each stage above the one before)")
    return tuple(float(v) for v in value)


def _rollout_every(value: Any) -> Any:
    text = value.strip().lower() if isinstance(value, str) else None
    if isinstance(value, bool) or not (isinstance(value, int) or (text and _DURATION.match(text))):
        raise _fail(
            f"rollout every {value!r} is not a duration (expected e.g. 24h, 2d or 90m; 0 advances only by hand)"
        )
    seconds = (
        value
        if isinstance(value, int)
        else sum(int(n) * _UNIT_SECONDS[u] for n, u in re.findall(r"(\d+)([dhms])", text or ""))
    )
    if not 0 <= seconds <= 90 * 86400:
        raise _fail(f"rollout every {seconds}s is out of range (expected from 0 to 90d)")
    return seconds


def _base_url(value: Any) -> Any:
    if not isinstance(value, str) or not re.match(r"https?://[^/\s]+/?\Z", value.strip()):
        raise _fail(
            f"store base_url {value!r} is not an http(s) URL of a host (expected e.g. http://127.0.0.1:8765)"
        )
    return value.strip().rstrip("/")


ApprovalCount = Annotated[int, BeforeValidator(_approval_count)]


def _default_approvals() -> dict[Literal["qa", "release_manager"], int]:
    return {"qa": 1, "release_manager": 1}


FreezeText = Annotated[str, BeforeValidator(_freeze_text)]
Soak = Annotated[int, BeforeValidator(_soak_seconds)]
OptionName = Annotated[str, BeforeValidator(_option_name)]


class GooglePlaySettings(BaseModel):
    """`release.store.google_play`: where Android releases go."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    package_name: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$")]
    track: Annotated[str, Field(min_length=1, max_length=100)] = "production"
    in_app_update_priority: Annotated[int, Field(ge=0, le=5)] | None = None


class AppStoreSettings(BaseModel):
    """`release.store.app_store`: the App Store Connect app iOS releases go to."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    app_id: Annotated[str, Field(pattern=r"^[0-9]{1,20}$")]


class StoreSettings(BaseModel):
    """`release.store`: the stores the `submit` stage's adapters talk to."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    google_play: GooglePlaySettings | None = None
    app_store: AppStoreSettings | None = None
    # Both stores at one other address: the store simulator (tests, `make demo`).
    base_url: Annotated[str, BeforeValidator(_base_url)] | None = None


class RolloutPlan(BaseModel):
    """`release.rollout`: the Play staged rollout in percent of users, advanced every `every`
    seconds on its own (0: only by hand); the App Store gets a phased release."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    stages: Annotated[tuple[float, ...], BeforeValidator(_rollout_stages)] = (1.0, 5.0, 20.0, 50.0, 100.0)
    every: Annotated[int, BeforeValidator(_rollout_every)] = 24 * 3600


class ReleaseSpec(BaseModel):
    """The validated `release:` section; `soak` is in seconds once validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    from_tags: Annotated[tuple[Annotated[str, Field(min_length=1)], ...], BeforeValidator(_tags)] = ()
    platforms_together: StrictBool = False
    approvals: dict[Literal["qa", "release_manager"], ApprovalCount] = Field(
        default_factory=_default_approvals
    )
    four_eyes: StrictBool = True
    freeze: tuple[FreezeText, ...] = ()
    soak: Soak = 0
    version_scheme: Literal["semver", "calver"] = "semver"
    build_number_option: dict[Literal["ios", "android"], OptionName] = {}
    # Refs (exact, or globs like refs/heads/release/*) whose releases get the store credentials;
    # empty means the project's default branch and the tags of `from_tags`.
    protected_refs: tuple[Annotated[str, Field(min_length=1, max_length=300)], ...] = ()
    store: StoreSettings | None = None
    rollout: RolloutPlan | None = None
    # What the release needs from the web (orchestrator/parity/spec.py, docs/parity.md).
    parity: ParitySpec | None = None

    def freeze_windows(self) -> tuple[FreezeWindow, ...]:
        return tuple(parse_freeze(text) for text in self.freeze)

    def required(self, role: str) -> int:
        return self.approvals.get(role, 0)  # type: ignore[call-overload]

    def option_for(self, platform: str | None) -> str:
        """The lane option that carries the build number on `platform`."""
        return self.build_number_option.get(platform, DEFAULT_BUILD_NUMBER_OPTION)  # type: ignore[call-overload]


def build_number_option(spec: PipelineSpec, kind: str, platform: str | None) -> str | None:
    """The lane option that carries an Instep-allocated build number to a build job of a release
    pipeline (one with a `gate` stage); None for every other job."""
    if kind != "build" or not any(stage.kind == "gate" for stage in spec.stages.values()):
        return None
    return (spec.release or ReleaseSpec()).option_for(platform)
