"""The `release:` section of instep.yml: defaults, parsing, and positioned errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from orchestrator.spec import SpecError, parse_spec
from orchestrator.spec.release import DateFreeze, WeeklyFreeze, parse_freeze

HEAD = """version: 1
platforms: {ios: {}, android: {}}
stages:
  build: {lane: build}
  gate: {needs: [build]}
  submit: {needs: [gate], lane: release}
"""


def errors(text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        parse_spec(text)
    return str(info.value).splitlines()


def test_a_full_release_section_validates() -> None:
    spec = parse_spec(
        HEAD
        + """release:
  from_tags: "v*"
  platforms_together: true
  approvals: {qa: 1, release_manager: 2}
  four_eyes: true
  freeze: ["Fri 16:00-Mon 08:00 Europe/Berlin", "2026-12-20..2027-01-03"]
  soak: 1d12h
  version_scheme: calver
  build_number_option: {android: version_code}
"""
    )
    release = spec.release
    assert release is not None
    assert release.from_tags == ("v*",) and release.platforms_together
    assert release.required("release_manager") == 2 and release.soak == 36 * 3600
    assert release.option_for("android") == "version_code" and release.option_for("ios") == "build_number"
    weekly, dates = release.freeze_windows()
    assert isinstance(weekly, WeeklyFreeze) and weekly.zone == "Europe/Berlin"
    assert isinstance(dates, DateFreeze)


def test_without_a_release_section_there_is_none() -> None:
    assert parse_spec(HEAD).release is None


def test_a_freeze_window_in_a_wrong_format_is_reported_with_line_and_column() -> None:
    text = HEAD + 'release:\n  freeze:\n    - "Fri 16:00-Mon 08:00 Europe/Berlin"\n    - "Fri 16-Mon 8"\n'
    assert errors(text) == [
        "instep.yml:10:7: freeze window 'Fri 16-Mon 8' is not in a known format "
        "(expected 'Fri 16:00-Mon 08:00 Europe/Berlin' or '2026-12-20..2027-01-03')"
    ]


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ("Fri 16:00-Mon 08:00 Mars/Olympus", "names an unknown time zone 'Mars/Olympus'"),
        ("Fry 16:00-Mon 08:00", "'Fry' is not a weekday"),
        ("Fri 25:00-Mon 08:00", "'25:00' is not a time of day"),
        ("2027-01-03..2026-12-20", "ends before it starts"),
        ("2026-02-30..2026-03-01", "has an invalid date"),
    ],
)
def test_freeze_window_mistakes_say_what_is_wrong(window: str, message: str) -> None:
    [error] = errors(HEAD + f'release:\n  freeze: ["{window}"]\n')
    assert error.startswith("instep.yml:8:12: ") and message in error


def test_unknown_release_keys_and_bad_values_are_positioned() -> None:
    found = errors(HEAD + "release:\n  soak: forever\n  approvals: {qa: 9}\n  approve: {}\n")
    assert "instep.yml:8:9: soak 'forever' is not a duration" in found[0]
    assert any(e.startswith("instep.yml:9:") and "approval count is 9" in e for e in found)
    assert any(e.startswith("instep.yml:10:3: unknown key 'approve'") for e in found)


def test_a_weekly_freeze_wraps_over_the_weekend_in_its_time_zone() -> None:
    window = parse_freeze("Fri 16:00-Mon 08:00 Europe/Berlin")
    assert not window.active(datetime(2026, 12, 4, 14, 59, tzinfo=UTC))  # 15:59 Berlin
    assert window.active(datetime(2026, 12, 4, 15, 0, tzinfo=UTC))
    assert window.active(datetime(2026, 12, 6, 23, 0, tzinfo=UTC))
    assert not window.active(datetime(2026, 12, 7, 7, 0, tzinfo=UTC))  # Monday 08:00 Berlin
    assert window.ends_after(datetime(2026, 12, 5, 12, 0, tzinfo=UTC)) == datetime(
        2026, 12, 7, 7, 0, tzinfo=UTC
    )
