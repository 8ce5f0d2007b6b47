"""instep.yml version 1: what validates, and every problem reported at its line and column."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest
from pydantic import ValidationError

from orchestrator.spec import PipelineSpec, SpecError, SpecIssue, load_spec_file, parse_spec

REPO = Path(__file__).resolve().parents[2]

FULL = """\
version: 1
triggers:
  branches: ["main", "release/*"]
  tags: ["v*"]
platforms:
  android:
    env: {GRADLE_OPTS: "-Xmx2g"}
    lanes: {build: assemble_release}
  ios: {}
env: {KEY: value, COUNT: 3, RATIO: 0.5, DEBUG: true}
stages:
  unit:
    run: node --test tests/unit
  build:
    lane: build
    options: {configuration: Release}
    needs: [unit]
    timeout: 30m
    retries: 1
    env: {STAGE_VAR: x}
  acceptance:
    needs: [build]
    devices: [pixel-8, iphone-15]
    shards: 2
    run: pytest tests/acceptance
  screenshots: {needs: [acceptance]}
  approve: {kind: gate, needs: [acceptance, screenshots], per_platform: false}
  submit: {needs: [approve], lane: release}
  lint: {run: "make lint", queue: default, platforms: [android]}
"""

MINIMAL = """\
version: 1
platforms: {android: {}}
stages:
  unit: {run: make test}
"""


def errors_of(text: str, **kwargs: object) -> list[str]:
    with pytest.raises(SpecError) as caught:
        parse_spec(dedent(text), **kwargs)  # type: ignore[arg-type]
    return str(caught.value).splitlines()


def only_error(text: str, **kwargs: object) -> str:
    errors = errors_of(text, **kwargs)
    assert len(errors) == 1, errors
    return errors[0]


# --- valid files -------------------------------------------------------------------------------


def test_the_sample_app_pipeline_validates() -> None:
    spec = load_spec_file(REPO / "examples/sample-app/instep.yml")
    assert list(spec.stages) == ["unit", "build", "acceptance", "screenshots", "gate"]
    assert (
        spec.stages["acceptance"].devices == ("iphone-15", "pixel-8")
        and spec.stages["acceptance"].shards == 2
    )
    assert spec.stages["unit"].timeout == 600 and spec.stages["unit"].lane == "test"
    assert spec.stages["build"].needs == ("unit",)
    assert spec.stages["build"].retries == 1


def test_the_documented_example_validates_with_defaults_filled_in() -> None:
    spec = parse_spec(FULL)
    assert spec.version == 1
    assert list(spec.stages) == ["unit", "build", "acceptance", "screenshots", "approve", "submit", "lint"]
    assert list(spec.platforms) == ["android", "ios"]
    assert spec.platforms["android"].lanes == {"build": "assemble_release"}
    assert spec.env == {"KEY": "value", "COUNT": "3", "RATIO": "0.5", "DEBUG": "true"}
    build = spec.stages["build"]
    assert (build.kind, build.lane, build.options, build.timeout) == (
        "build",
        "build",
        {"configuration": "Release"},
        1800,
    )
    assert spec.stages["lint"].kind == "run"
    assert spec.stages["acceptance"].shards == 2
    assert spec.stages["approve"].per_platform is False
    assert spec.stages["screenshots"].per_platform is True


def test_without_triggers_every_branch_and_no_tag_triggers() -> None:
    spec = parse_spec(MINIMAL)
    assert (spec.triggers.branches, spec.triggers.tags) == (("*",), ())


def test_triggers_listing_only_tags_trigger_no_branch() -> None:
    spec = parse_spec(MINIMAL + "triggers: {tags: ['v*']}\n")
    assert (spec.triggers.branches, spec.triggers.tags) == ((), ("v*",))


@pytest.mark.parametrize(
    ("written", "seconds"),
    [("45", 45), ("90s", 90), ("30m", 1800), ("2h", 7200), ("1h30m", 5400), ("24h", 86400)],
)
def test_timeouts_are_read_as_seconds(written: str, seconds: int) -> None:
    spec = parse_spec(MINIMAL + f"  other: {{run: x, timeout: {written}}}\n")
    assert spec.stages["other"].timeout == seconds


def test_an_explicit_kind_wins_over_the_stage_name() -> None:
    spec = parse_spec(
        MINIMAL + "  build: {kind: run, run: make}\n  android-build: {kind: build, lane: build}\n"
    )
    assert spec.stages["build"].kind == "run"
    assert spec.stages["android-build"].kind == "build"


def test_needs_may_name_a_single_stage_without_a_list() -> None:
    spec = parse_spec(MINIMAL + "  build: {run: make, needs: unit}\n")
    assert spec.stages["build"].needs == ("unit",)


def test_a_built_in_stage_may_be_left_empty() -> None:
    spec = parse_spec(MINIMAL + "  screenshots:\n")
    assert spec.stages["screenshots"].kind == "screenshots"


def test_a_platform_may_be_declared_without_settings() -> None:
    spec = parse_spec("version: 1\nplatforms:\n  ios:\nstages: {unit: {run: x}}\n")
    assert list(spec.platforms) == ["ios"]


def test_yaml_merge_keys_are_understood() -> None:
    spec = parse_spec(MINIMAL + "  a: &base {run: x, timeout: 5m}\n  b:\n    <<: *base\n    retries: 2\n")
    assert (spec.stages["b"].timeout, spec.stages["b"].retries) == (300, 2)


# --- one error each, at its line and column ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "version: 1\nplatforms: {ios: {}}\nstages: {unit: {run: x}}\nextra: 1\n",
            "instep.yml:4:1: unknown key 'extra' at the top level (expected one of: version, triggers, platforms, env, stages, release)",
        ),
        (
            "version: 1\nplatforms: {ios: {}}\nstages:\n  unit:\n    run: x\n    colour: red\n",
            "instep.yml:6:5: unknown key 'colour' in stage 'unit' (expected one of: kind, run, lane, options, needs, "
            "env, timeout, retries, shards, devices, suite, app, test_retries, platforms, per_platform, queue, allow_failure)",
        ),
        (
            "version: 1\nplatforms: {ios: {}}\ntriggers: {branch: [main]}\nstages: {unit: {run: x}}\n",
            "instep.yml:3:12: unknown key 'branch' in `triggers` (expected one of: branches, tags)",
        ),
        (
            "version: 1\nplatforms: {ios: {lane: {}}}\nstages: {unit: {run: x}}\n",
            "instep.yml:2:19: unknown key 'lane' in platform 'ios' (expected one of: env, lanes)",
        ),
        (
            "platforms: {ios: {}}\nstages: {unit: {run: x}}\n",
            "instep.yml:1:1: the top level is missing the required key 'version' (expected `version: 1`)",
        ),
        (
            "version: 2\nplatforms: {ios: {}}\nstages: {unit: {run: x}}\n",
            "instep.yml:1:10: `version` is 2 (expected 1)",
        ),
        (
            "version: 1\nstages: {unit: {run: x}}\n",
            "instep.yml:1:1: the top level is missing the required key 'platforms' (expected `platforms:` with `ios:` "
            "and/or `android:`)",
        ),
        (
            "version: 1\nplatforms: {}\nstages: {unit: {run: x}}\n",
            "instep.yml:2:12: `platforms` is empty (expected at least one entry)",
        ),
        (
            "version: 1\nplatforms:\n  windows: {}\nstages: {unit: {run: x}}\n",
            "instep.yml:3:3: unknown platform 'windows' (expected one of: ios, android)",
        ),
        (
            "version: 1\nplatforms: {ios: {}}\nstages: {unit: {run: [make]}}\n",
            "instep.yml:3:22: `run` is a list (expected a string)",
        ),
        (
            "version: 1\nplatforms: {ios: {}}\nstages: {unit: 'make test'}\n",
            "instep.yml:3:16: `unit` is a string (expected a mapping)",
        ),
        (
            "version: 1\nplatforms: {ios: {}}\nstages: {unit: {run: x, allow_failure: 'no'}}\n",
            "instep.yml:3:40: `allow_failure` is a string (expected true or false)",
        ),
        (
            "version: 1\nplatforms: {ios: {}}\nenv: {A: [1]}\nstages: {unit: {run: x}}\n",
            "instep.yml:3:10: `A` is a list (expected a string, number or boolean)",
        ),
        (
            "version: 1\nplatforms: {ios: {}}\nenv: {bad-name: 1}\nstages: {unit: {run: x}}\n",
            "instep.yml:3:7: environment variable name 'bad-name' is not a valid name (expected letters, digits and "
            "_, not starting with a digit)",
        ),
        (
            "version: 1\nplatforms: {ios: {}}\nstages:\n  unit: {run: x, timeout: 30x}\n",
            "instep.yml:4:27: timeout '30x' is not a duration (expected seconds, or a duration like 90s, 30m, 2h, 1h30m)",
        ),
        (
            "version: 1\nplatforms: {ios: {}}\nstages:\n  unit: {run: x, timeout: 25h}\n",
            "instep.yml:4:27: timeout of 90000s is out of range (expected from 1s to 24h)",
        ),
        (
            "version: 1\nplatforms: {ios: {}}\nstages:\n  unit: {run: x, shards: 33}\n",
            "instep.yml:4:26: shards is 33 (expected an integer from 1 to 32)",
        ),
        (
            "version: 1\nplatforms: {ios: {}}\nstages:\n  unit: {run: x, shards: 0}\n",
            "instep.yml:4:26: shards is 0 (expected an integer from 1 to 32)",
        ),
        (
            "version: 1\nplatforms: {ios: {}}\nstages:\n  unit: {run: x, retries: 6}\n",
            "instep.yml:4:27: retries is 6 (expected an integer from 0 to 5)",
        ),
        (
            "version: 1\nplatforms: {ios: {}}\nstages:\n  unit: {run: x, queue: gpu}\n",
            "instep.yml:4:25: `queue` is 'gpu' (expected 'default', 'android', 'ios' or 'devices')",
        ),
        (
            "version: 1\nplatforms: {ios: {}}\nstages:\n  unit: {run: x, kind: deploy}\n",
            "instep.yml:4:24: `kind` is 'deploy' (expected 'build', 'unit', 'screenshots', 'acceptance', 'gate', "
            "'submit' or 'run')",
        ),
        (
            "version: 1\nplatforms: {ios: {}}\nstages:\n  unit: {run: ''}\n",
            "instep.yml:4:15: `run` is empty (expected at least one character)",
        ),
        (
            "version: 1\nplatforms: {ios: {}}\ntriggers: {}\nstages: {unit: {run: x}}\n",
            "instep.yml:3:11: triggers is empty (expected `branches:` and/or `tags:`)",
        ),
    ],
)
def test_a_schema_problem_is_reported_at_its_position(text: str, expected: str) -> None:
    assert only_error(text) == expected


def test_unknown_needs_name_the_missing_stage_and_list_the_existing_ones() -> None:
    error = only_error(
        """\
        version: 1
        platforms: {android: {}}
        stages:
          unit: {run: x}
          build:
            run: make
            needs: [unit, unti]
        """
    )
    assert (
        error
        == "instep.yml:7:19: stage 'build' needs 'unti', which is not a stage (expected one of: unit, build)"
    )


def test_a_cycle_is_reported_with_its_path() -> None:
    error = only_error(
        """\
        version: 1
        platforms: {android: {}}
        stages:
          a: {run: x, needs: [c]}
          b: {run: x, needs: [a]}
          c: {run: x, needs: [b]}
          d: {run: x, needs: [c]}
        """
    )
    assert (
        error
        == "instep.yml:4:23: needs form a cycle: a -> c -> b -> a (expected each stage to need only earlier work)"
    )


def test_a_stage_needing_itself_is_a_cycle() -> None:
    error = only_error("version: 1\nplatforms: {ios: {}}\nstages:\n  a: {run: x, needs: a}\n")
    assert (
        error == "instep.yml:4:22: needs form a cycle: a -> a (expected each stage to need only earlier work)"
    )


def test_two_separate_cycles_are_both_reported() -> None:
    errors = errors_of(
        "version: 1\nplatforms: {ios: {}}\nstages:\n"
        "  a: {run: x, needs: [b]}\n  b: {run: x, needs: [a]}\n"
        "  c: {run: x, needs: [d]}\n  d: {run: x, needs: [c]}\n"
    )
    assert [e.split(": ", 2)[1:] for e in errors] == [
        ["needs form a cycle", "a -> b -> a (expected each stage to need only earlier work)"],
        ["needs form a cycle", "c -> d -> c (expected each stage to need only earlier work)"],
    ]


def test_a_stage_platform_must_be_declared() -> None:
    error = only_error(
        "version: 1\nplatforms: {android: {}}\nstages:\n  unit: {run: x, platforms: [android, ios]}\n"
    )
    assert (
        error
        == "instep.yml:4:39: platform 'ios' is not declared under `platforms:` (expected one of: android)"
    )


def test_run_and_lane_together_are_refused() -> None:
    error = only_error(
        "version: 1\nplatforms: {ios: {}}\nstages:\n  build:\n    run: make\n    lane: build\n"
    )
    assert error == "instep.yml:6:5: stage 'build' has both `run:` and `lane:` (expected exactly one)"


def test_lane_options_need_a_lane() -> None:
    error = only_error(
        "version: 1\nplatforms: {ios: {}}\nstages:\n  unit:\n    run: x\n    options: {a: 1}\n"
    )
    assert error == "instep.yml:6:5: stage 'unit' has lane `options:` but no `lane:` (expected a `lane:`)"


def test_a_custom_stage_needs_a_command() -> None:
    error = only_error("version: 1\nplatforms: {ios: {}}\nstages:\n  lint: {queue: default}\n")
    assert error == (
        "instep.yml:4:3: stage 'lint' has nothing to run (expected `run:` with a command; "
        "or set `kind:` to one of the built-in stage kinds)"
    )


def test_a_build_stage_needs_a_command_or_a_lane() -> None:
    error = only_error("version: 1\nplatforms: {ios: {}}\nstages:\n  build: {retries: 1}\n")
    assert (
        error
        == "instep.yml:4:3: stage 'build' has nothing to run (expected exactly one of `run:` or `lane:`)"
    )


def test_a_gate_runs_no_command() -> None:
    error = only_error("version: 1\nplatforms: {ios: {}}\nstages:\n  gate: {lane: release}\n")
    assert error == "instep.yml:4:10: gate stage 'gate' runs no command (expected no `lane:`)"


def test_platforms_on_a_stage_that_runs_once_are_refused() -> None:
    error = only_error(
        "version: 1\nplatforms: {ios: {}}\nstages:\n  lint: {run: x, per_platform: false, platforms: [ios]}\n"
    )
    assert error.startswith(
        "instep.yml:4:39: stage 'lint' runs once for all platforms, so `platforms:` has no effect"
    )


def test_a_lane_override_must_name_a_stage_with_a_lane() -> None:
    errors = errors_of(
        "version: 1\nplatforms:\n  ios:\n    lanes: {unit: x, deploy: y}\nstages:\n  unit: {run: make}\n"
    )
    assert errors == [
        "instep.yml:4:13: stage 'unit' runs no lane, so its lane cannot be overridden (expected a stage with `lane:`)",
        "instep.yml:4:22: lane override for 'deploy', which is not a stage (expected one of: unit)",
    ]


def test_devices_are_checked_against_a_catalogue_when_one_is_given() -> None:
    text = "version: 1\nplatforms: {ios: {}}\nstages:\n  acceptance: {devices: [iphone-15, iphone-99]}\n"
    assert parse_spec(text).stages["acceptance"].devices == ("iphone-15", "iphone-99")
    assert only_error(text, known_devices={"iphone-15", "pixel-8"}) == (
        "instep.yml:4:37: unknown device profile 'iphone-99' (expected one of: iphone-15, pixel-8)"
    )


def test_a_stage_name_must_fit_in_a_job_key() -> None:
    error = only_error("version: 1\nplatforms: {ios: {}}\nstages:\n  'a:b': {run: x}\n")
    assert (
        error == "instep.yml:4:3: stage name 'a:b' is not valid (expected letters, digits, '_', '.' or '-')"
    )


def test_a_duplicate_key_is_reported_where_it_repeats() -> None:
    error = only_error("version: 1\nplatforms: {ios: {}}\nstages:\n  unit: {run: x}\n  unit: {run: y}\n")
    assert error == "instep.yml:5:3: duplicate key 'unit' (first defined at line 4; expected each key once)"


# --- files that are not a pipeline at all ------------------------------------------------------------


def test_a_yaml_syntax_error_carries_the_parser_position() -> None:
    error = only_error("version: 1\nstages:\n  unit: {run: x\n")
    assert error.startswith("instep.yml:4:1: invalid YAML: expected ',' or '}', but got '<stream end>'")


def test_a_tab_indent_is_a_syntax_error_at_the_tab() -> None:
    error = only_error("version: 1\nstages:\n\tunit: {}\n")
    assert error.startswith("instep.yml:3:1: invalid YAML: found character '\\t' that cannot start any token")


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_an_empty_file_is_refused(text: str) -> None:
    assert (
        only_error(text)
        == "instep.yml:1:1: the file is empty (expected a mapping starting with `version: 1`)"
    )


def test_a_top_level_list_is_refused() -> None:
    assert only_error("# pipeline\n- build\n- test\n") == (
        "instep.yml:2:1: the top level is a list (expected a mapping with `version`, `platforms` and `stages`)"
    )


# --- all problems at once ------------------------------------------------------------------------------


def test_every_problem_is_reported_in_file_order() -> None:
    errors = errors_of(
        """\
        version: 1
        platforms:
          android: {}
          windows: {}
        stages:
          unit:
            run: x
            timeout: soon
          build:
            run: make
            lane: build
            needs: [unti]
            shards: 40
            platforms: [ios]
        """
    )
    assert [e.split(": ")[0] for e in errors] == [
        "instep.yml:4:3",  # unknown platform
        "instep.yml:8:14",  # bad timeout
        "instep.yml:11:5",  # run and lane
        "instep.yml:12:13",  # unknown need
        "instep.yml:13:13",  # shards out of range
        "instep.yml:14:17",  # undeclared platform
    ]


def test_spec_error_lists_its_issues_and_prints_one_line_each() -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec("version: 3\nplatforms: {}\nstages: {unit: {run: x}}\n", filename="app/instep.yml")
    assert caught.value.errors == [
        SpecIssue(1, 10, "`version` is 3 (expected 1)", "app/instep.yml"),
        SpecIssue(2, 12, "`platforms` is empty (expected at least one entry)", "app/instep.yml"),
    ]
    assert str(caught.value) == (
        "app/instep.yml:1:10: `version` is 3 (expected 1)\n"
        "app/instep.yml:2:12: `platforms` is empty (expected at least one entry)"
    )


def test_errors_from_a_file_name_the_file_as_given(tmp_path: Path) -> None:
    path = tmp_path / "instep.yml"
    path.write_text("version: 1\nplatforms: {ios: {}}\nstages: {unit: {}}\n")
    with pytest.raises(SpecError) as caught:
        load_spec_file(path)
    assert str(caught.value).startswith(f"{path}:3:10: stage 'unit' has nothing to run")


def test_a_file_that_is_not_utf8_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "instep.yml"
    path.write_bytes(b"version: 1\nenv: {A: caf\xe9}\n")
    with pytest.raises(SpecError) as caught:
        load_spec_file(path)
    assert str(caught.value) == f"{path}:2:1: the file is not UTF-8 text (expected UTF-8)"


def test_building_the_model_directly_still_runs_the_cross_stage_checks() -> None:
    with pytest.raises(ValidationError, match="stages.b.needs.0: stage 'b' needs 'zz', which is not a stage"):
        PipelineSpec.model_validate(
            {"version": 1, "platforms": {"ios": {}}, "stages": {"b": {"run": "x", "needs": ["zz"]}}}
        )


def test_device_stage_keys_are_refused_on_other_stages() -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(
            "version: 1\nplatforms: {android: {}}\nstages:\n  unit:\n    run: x\n    suite: tests\n"
            "  acceptance: {app: www, devices: [pixel-8]}\n"
        )
    text = str(caught.value)
    assert "instep.yml:6:5: `suite:` is for device stages" in text
