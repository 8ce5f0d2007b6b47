"""instep.yml is YAML 1.2: words like `on`, `no` and `y` stay strings, and what YAML itself can
get wrong (aliases, tags, directives, several documents) is reported at its line and column."""

from __future__ import annotations

import pytest

from orchestrator.spec import SpecError, parse_spec

MINIMAL = "version: 1\nplatforms: {android: {}}\nstages:\n  unit: {run: make test}\n"


@pytest.fixture(autouse=True, params=["libyaml", "pure-python"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every case is read by libyaml (when ruamel.yaml.clib is installed) and by the pure-Python parser."""
    if request.param == "pure-python":
        monkeypatch.setattr("orchestrator.spec.document._fast_loader", lambda: None)
    return str(request.param)


def only_error(text: str) -> str:
    with pytest.raises(SpecError) as caught:
        parse_spec(text)
    errors = str(caught.value).splitlines()
    assert len(errors) == 1, errors
    return errors[0]


def test_a_branch_named_on_triggers_as_a_string() -> None:
    spec = parse_spec(MINIMAL + "triggers:\n  branches: [on, off, yes, no, y, n, On, NO]\n")
    assert spec.triggers.branches == ("on", "off", "yes", "no", "y", "n", "On", "NO")


def test_env_values_that_yaml_1_1_read_as_booleans_stay_as_written() -> None:
    spec = parse_spec(MINIMAL + "env: {A: NO, B: on, C: Yes, D: off, E: y, F: true, G: False}\n")
    # true/false are YAML 1.2 booleans (written back as true/false); the rest are strings as written.
    assert spec.env == {"A": "NO", "B": "on", "C": "Yes", "D": "off", "E": "y", "F": "true", "G": "false"}


def test_yaml_1_2_numbers() -> None:
    spec = parse_spec(MINIMAL + "env: {OCTAL: 0o17, LEADING_ZERO: 017, HEX: 0x1F, SEXAGESIMAL: 1:20}\n")
    # 1.1 read 017 as octal 15 and 1:20 as 80.
    assert spec.env == {"OCTAL": "15", "LEADING_ZERO": "17", "HEX": "31", "SEXAGESIMAL": "1:20"}


def test_a_boolean_key_stays_a_key_named_on() -> None:
    # YAML 1.1 turned `on:` into the key True, which GitHub Actions users know well.
    error = only_error(MINIMAL + "on: push\n")
    assert error.startswith("instep.yml:5:1: unknown key 'on' at the top level")


def test_keys_written_beside_a_merge_key_override_the_merged_ones() -> None:
    spec = parse_spec(
        MINIMAL
        + "  base: &base {run: x, timeout: 5m, retries: 1}\n"
        + "  quick:\n    <<: *base\n    timeout: 1m\n"
        + "  twice:\n    timeout: 2m\n    <<: [*base, {retries: 3, shards: 2}]\n"
    )
    quick, twice = spec.stages["quick"], spec.stages["twice"]
    assert (quick.run, quick.timeout, quick.retries) == ("x", 60, 1)
    # In a list of merged mappings the first one wins: retries from *base, shards from the second.
    assert (twice.timeout, twice.retries, twice.shards) == (120, 1, 2)


def test_a_problem_inside_a_merged_mapping_is_reported_where_it_is_written() -> None:
    error = only_error(MINIMAL + "  base: &base {run: x, timeout: soon}\n  b: {<<: *base}\n")
    assert error.startswith("instep.yml:5:33: timeout 'soon' is not a duration")


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        (
            "  b:\n    <<: 3\n",
            "instep.yml:6:9: invalid merge key: `<<` merges a number (expected a mapping or a list of "
            "mappings, such as `<<: *defaults`)",
        ),
        (
            "  b:\n    <<: [{run: x}, [1]]\n",
            "instep.yml:6:20: invalid merge key: `<<` merges a list (expected a mapping or a list of "
            "mappings, such as `<<: *defaults`)",
        ),
        (
            "  b: *nowhere\n",
            "instep.yml:5:6: unknown alias *nowhere (expected an anchor &nowhere earlier in the file)",
        ),
        (
            "  b: &loop {run: x, needs: *loop}\n",
            "instep.yml:5:28: alias *loop refers to the value it is part of (anchor &loop at line 5, "
            "column 6; expected an alias to a complete earlier value)",
        ),
        (
            "  b: {run: !shell make}\n",
            "instep.yml:5:12: unknown tag !shell (expected plain YAML values: strings, numbers, true/false)",
        ),
        (
            "  b: {run: x, retries: !!int many}\n",
            "instep.yml:5:24: 'many' cannot be read as tag:yaml.org,2002:int: invalid literal for int() "
            "with base 10: 'many'",
        ),
        (
            "---\nversion: 1\n",
            "instep.yml:5:1: a second YAML document starts here (expected one document; remove the `---`)",
        ),
        (
            '  b: {run: "bell \x07"}\n',
            "instep.yml:5:18: invalid YAML: unacceptable character #x0007: special characters are not allowed",
        ),
        (
            "  [a]: {run: x}\n",
            "instep.yml:5:3: a key must be a plain name (expected a string key)",
        ),
    ],
    ids=[
        "merge-scalar",
        "merge-list-of-list",
        "unknown-alias",
        "self-alias",
        "unknown-tag",
        "bad-int",
        "two-documents",
        "control-char",
        "list-key",
    ],
)
def test_a_yaml_problem_is_reported_at_its_position(tail: str, expected: str) -> None:
    assert only_error(MINIMAL + tail) == expected


def test_a_yaml_1_1_directive_is_refused_rather_than_read_with_other_rules() -> None:
    assert only_error("%YAML 1.1\n---\n" + MINIMAL) == (
        "instep.yml:1:1: `%YAML 1.1` is not supported (expected YAML 1.2: remove the directive or write `%YAML 1.2`)"
    )


def test_a_yaml_1_2_directive_is_accepted() -> None:
    assert list(parse_spec("%YAML 1.2\n---\n" + MINIMAL).stages) == ["unit"]


def test_explicit_string_tags_are_understood() -> None:
    spec = parse_spec(MINIMAL + "env: {VERSION: !!str 1.10}\n")
    assert spec.env == {"VERSION": "1.10"}
