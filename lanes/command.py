"""The exact fastlane command line for a lane: `fastlane [platform] lane key:value ...`."""

from __future__ import annotations

import re
from collections.abc import Mapping

from lanes.errors import LaneOptionError
from lanes.locate import FastlaneCommand

# Platforms, lanes and option keys are Ruby symbols in the Fastfile.
_SYMBOL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*[?!]?$")

OptionValue = str | int | float | bool


def option_argument(key: str, value: OptionValue) -> str:
    """`key:value` as fastlane parses it (split at the first colon; true/false become booleans)."""
    if not _SYMBOL.match(key):
        raise LaneOptionError(
            f"lane option {key!r} is not a valid option name; use letters, digits and underscores "
            "(e.g. build_number:42)"
        )
    if isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(value)
    return f"{key}:{text}"


def parse_option(argument: str) -> tuple[str, str]:
    """`"key:value"` from a command line into `("key", "value")`; the value may contain colons."""
    key, sep, value = argument.partition(":")
    if not sep:
        raise LaneOptionError(f"lane option {argument!r} has no colon; write options as key:value")
    option_argument(key, value)
    return key, value


def lane_name(platform: str | None, lane: str) -> str:
    """How fastlane names the lane in its messages: `android build`, or `build` without platform."""
    return f"{platform} {lane}" if platform else lane


def lane_command(
    fastlane: FastlaneCommand,
    platform: str | None,
    lane: str,
    options: Mapping[str, OptionValue] | None = None,
) -> list[str]:
    """argv to run `lane` (of `platform`, if given) with `options`, in the order given."""
    for what, name in (("platform", platform), ("lane", lane)):
        if name is not None and not _SYMBOL.match(name):
            raise LaneOptionError(
                f"{what} name {name!r} is not valid; fastlane {what}s are Ruby symbols like "
                "'android' or 'build_release'"
            )
    argv = [*fastlane.argv]
    if platform:
        argv.append(platform)
    argv.append(lane)
    argv.extend(option_argument(key, value) for key, value in (options or {}).items())
    return argv
