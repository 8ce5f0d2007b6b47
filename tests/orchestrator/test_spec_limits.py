"""The limits on an instep.yml (orchestrator/spec/limits.py): a file past one is refused with a
`file:line:col` error, quickly and in little memory, by `parse_spec` and by `instep validate` (exit 2,
never a traceback)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner

from orchestrator.cli import main
from orchestrator.spec import SpecError, load_spec_file, parse_spec
from orchestrator.spec.limits import MAX_DEPTH, MAX_FILE_BYTES

MINIMAL = "version: 1\nplatforms: {android: {}}\nstages:\n  unit: {run: make test}\n"


@pytest.fixture(autouse=True, params=["libyaml", "pure-python"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every case is read by libyaml (when ruamel.yaml.clib is installed) and by the pure-Python parser."""
    if request.param == "pure-python":
        monkeypatch.setattr("orchestrator.spec.document._fast_loader", lambda: None)
    return str(request.param)


def laughs(levels: int) -> str:
    """The classic "billion laughs": each anchor repeats the previous one nine times."""
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    names = "abcdefghijklmnop"
    for prev, name in zip(names[: levels - 1], names[1:levels], strict=True):
        text += f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n"
    return text


def errors_of(text: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        parse_spec(text)
    return str(caught.value).splitlines()


def nested(levels: int) -> str:
    """A top-level mapping (one level) holding lists nested `levels - 1` deep."""
    return "[" * (levels - 1) + "]" * (levels - 1)


# --- size -----------------------------------------------------------------------------------------


def test_a_file_of_exactly_one_megabyte_is_read() -> None:
    text = MINIMAL + "#" * (MAX_FILE_BYTES - len(MINIMAL) - 1) + "\n"
    assert len(text.encode()) == MAX_FILE_BYTES
    assert list(parse_spec(text).stages) == ["unit"]


def test_one_byte_more_is_refused_before_parsing() -> None:
    text = MINIMAL + "#" * (MAX_FILE_BYTES - len(MINIMAL)) + "\n"
    assert errors_of(text) == [
        "instep.yml:1:1: the file is 1,048,577 bytes (expected at most 1,048,576 bytes, 1 MB; "
        "move long scripts into files in the repository and call them from `run:`)"
    ]


def test_a_large_file_is_refused_with_its_size_without_reading_it_whole(tmp_path: Path) -> None:
    path = tmp_path / "instep.yml"
    with path.open("wb") as file:
        file.write(MINIMAL.encode())
        file.truncate(50 * MAX_FILE_BYTES)  # 50 MB, sparse
    tracemalloc.start()
    try:
        with pytest.raises(SpecError) as caught:
            load_spec_file(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(caught.value).startswith(f"{path}:1:1: the file is 52,428,800 bytes (expected at most")
    assert peak < 3 * MAX_FILE_BYTES


def test_size_counts_bytes_not_characters() -> None:
    text = MINIMAL + "# " + "é" * (MAX_FILE_BYTES // 2) + "\n"  # fewer characters than bytes
    assert len(text) < MAX_FILE_BYTES < len(text.encode())
    assert errors_of(text)[0].startswith("instep.yml:1:1: the file is ")


# --- nesting ----------------------------------------------------------------------------------------


def test_nesting_up_to_the_limit_reaches_the_schema_checks() -> None:
    errors = errors_of(MINIMAL + f"env: {{A: {nested(MAX_DEPTH - 1)}}}\n")
    assert errors == ["instep.yml:5:10: `A` is a list (expected a string, number or boolean)"]


def test_one_level_deeper_is_refused_where_it_starts() -> None:
    assert errors_of(MINIMAL + f"env: {{A: {nested(MAX_DEPTH)}}}\n") == [
        "instep.yml:5:40: lists and mappings nest more than 32 levels deep (expected at most 32 levels)"
    ]


def test_twenty_thousand_nested_lists_are_a_positioned_error_not_a_recursion_error() -> None:
    assert errors_of("x: " + "[" * 20_000 + "]" * 20_000 + "\n") == [
        "instep.yml:1:35: lists and mappings nest more than 32 levels deep (expected at most 32 levels)"
    ]


def test_block_nesting_counts_too() -> None:
    text = "x:\n" + "".join("  " * i + "-\n" for i in range(40))
    assert errors_of(text)[0].endswith("nest more than 32 levels deep (expected at most 32 levels)")


def test_an_alias_counts_the_depth_it_brings_in() -> None:
    half = nested(20)
    text = f"a: &deep {half}\nb: {'[' * 15}*deep{']' * 15}\n"
    assert errors_of(text) == [
        "instep.yml:2:19: lists and mappings nest more than 32 levels deep once alias *deep is expanded "
        "(expected at most 32 levels)"
    ]


# --- aliases and values ---------------------------------------------------------------------------------


@pytest.mark.parametrize("levels", [6, 9])
def test_a_billion_laughs_file_is_refused_at_the_alias_that_crosses_the_limit(levels: int) -> None:
    text = laughs(levels)
    assert len(text.encode()) < 500
    tracemalloc.start()
    try:
        errors = errors_of(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert errors == [
        "instep.yml:6:8: the file holds more than 100,000 keys and values once alias *e is expanded "
        "(anchors nested in anchors multiply) (expected at most 100,000, counting what each alias repeats)"
    ]
    assert peak < 5_000_000  # bytes: nothing was expanded


def test_a_self_referencing_alias_is_a_positioned_error() -> None:
    assert errors_of("x: &x [*x]\n") == [
        "instep.yml:1:8: alias *x refers to the value it is part of (anchor &x at line 1, column 4; "
        "expected an alias to a complete earlier value)"
    ]


def test_aliases_that_repeat_small_parts_are_fine() -> None:
    # Top-level keys are closed, so the shared defaults live in the first stage that uses them.
    stages = "".join(f"  s{i}: {{<<: *defaults, needs: [unit]}}\n" for i in range(200))
    spec = parse_spec(
        "version: 1\nplatforms: {android: {}}\nstages:\n"
        "  unit: &defaults {run: make, timeout: 5m, env: {A: '1', B: '2'}}\n" + stages
    )
    assert len(spec.stages) == 201
    assert spec.stages["s199"].timeout == 300 and spec.stages["s199"].env == {"A": "1", "B": "2"}


def test_the_values_limit_counts_plain_values_and_what_aliases_repeat(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("orchestrator.spec.document.MAX_VALUES", 50)
    # the top mapping, two keys, a list of 45 items and a number: 50 values.
    assert parse_spec_values("x: [" + ", ".join(["1"] * 45) + "]\ny: 2\n") == "ok"
    assert parse_spec_values("x: [" + ", ".join(["1"] * 46) + "]\ny: 2\n").startswith(
        "instep.yml:2:4: the file holds more than 50 keys and values (expected at most 50"
    )
    assert parse_spec_values("x: &x [" + ", ".join(["1"] * 20) + "]\ny: *x\nz: *x\n").startswith(
        "instep.yml:3:4: the file holds more than 50 keys and values once alias *x is expanded"
    )


def parse_spec_values(text: str) -> str:
    """'ok' when only the schema complains (the limit was not reached), else the first error."""
    first = errors_of(text)[0]
    return "ok" if "keys and values" not in first else first


# --- stages -----------------------------------------------------------------------------------------------


def test_more_stages_than_the_limit_are_refused_at_the_first_one_too_many(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("orchestrator.spec.loader.MAX_STAGES", 3)
    four = MINIMAL + "  two: {run: x}\n  three: {run: x}\n  four: {run: x}\n"
    assert errors_of(four) == ["instep.yml:7:3: stage 'four' is stage 4 of 4 (expected at most 3 stages)"]
    assert len(parse_spec(MINIMAL + "  two: {run: x}\n  three: {run: x}\n").stages) == 3


# --- instep validate ------------------------------------------------------------------------------------

HOSTILE = {
    "billion-laughs-9": (
        laughs(9).encode(),
        "instep.yml:6:8: the file holds more than 100,000 keys and values",
    ),
    "self-alias": (b"x: &x [*x]\n", "instep.yml:1:8: alias *x refers to the value it is part of"),
    "nested-20000": (
        b"x: " + b"[" * 20_000 + b"]" * 20_000 + b"\n",
        "instep.yml:1:35: lists and mappings nest more than 32 levels deep",
    ),
    "5MB": (
        (
            MINIMAL
            + "".join(
                f"  stage-{i:05}:\n    run: ./gradlew test-shard-{i:05}\n    needs: stage-{i - 1:05}\n"
                for i in range(71_150)
            )
        ).encode(),
        "instep.yml:1:1: the file is 5,",
    ),
    "not-utf8": (
        b"version: 1\nenv: {A: caf\xe9}\n",
        "instep.yml:2:1: the file is not UTF-8 text (expected UTF-8)",
    ),
    "empty": (b"", "instep.yml:1:1: the file is empty"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_validate_exits_2_with_the_positioned_problem(tmp_path: Path, case: str) -> None:
    content, expected = HOSTILE[case]
    (tmp_path / "instep.yml").write_bytes(content)
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"{tmp_path}/{expected}")
    assert "Traceback" not in result.output
