"""`instep screenshots diff` as a user runs it: exit codes, the JSON document, diff images, bad
input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner

from orchestrator.cli import main
from screenshots.pixelmatch import MatchOptions, pixelmatch
from screenshots.png import decode_rgba
from tests.screenshots.conftest import FIXTURES, bomb_png, draw_screen, load_rgba, png_bytes


def run(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["screenshots", "diff", *args, "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.stdout)


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    base, cand = tmp_path / "baseline", tmp_path / "candidate"
    for locale in ("en-US", "de-DE"):
        for screen in ("home", "orders", "settings"):
            data = png_bytes(draw_screen(screen))
            write(base / "pixel-8" / locale / f"{screen}.png", data)
            write(cand / "pixel-8" / locale / f"{screen}.png", data)
    return base, cand


def test_unchanged_folders_exit_0_with_every_screen_listed(folders: tuple[Path, Path]) -> None:
    code, doc = run(str(folders[0]), str(folders[1]))
    assert code == 0
    assert [c["name"] for c in doc["comparisons"]] == sorted(
        f"pixel-8/{loc}/{s}.png" for loc in ("en-US", "de-DE") for s in ("home", "orders", "settings")
    )
    assert all(c["status"] == "unchanged" and c["diff_pixels"] == 0 for c in doc["comparisons"])
    assert all((c["width"], c["height"]) == (180, 320) for c in doc["comparisons"])


def test_changed_new_and_missing_exit_1(folders: tuple[Path, Path], tmp_path: Path) -> None:
    base, cand = folders
    write(cand / "pixel-8/en-US/home.png", png_bytes(draw_screen("Home!")))
    write(cand / "pixel-8/en-US/profile.png", png_bytes(draw_screen("Profile")))
    (cand / "pixel-8/de-DE/settings.png").unlink()
    code, doc = run(str(base), str(cand), "--out", str(tmp_path / "diffs"))
    by_name = {c["name"]: c for c in doc["comparisons"]}
    assert code == 1
    assert by_name["pixel-8/en-US/home.png"]["status"] == "changed"
    assert by_name["pixel-8/en-US/home.png"]["diff_pixels"] > 0
    assert by_name["pixel-8/en-US/home.png"]["changed_boxes"]
    assert by_name["pixel-8/en-US/profile.png"]["status"] == "new"
    assert by_name["pixel-8/de-DE/settings.png"]["status"] == "missing"
    assert doc["summary"]["changed"] == 1 and doc["summary"]["unchanged"] == 4
    written = sorted(
        p.relative_to(tmp_path / "diffs").as_posix() for p in (tmp_path / "diffs").rglob("*.png")
    )
    assert written == ["pixel-8/en-US/home.png"]


def test_diff_image_written_by_the_cli_is_pixelmatchs(tmp_path: Path) -> None:
    write(tmp_path / "a/shot.png", (FIXTURES / "1a.png").read_bytes())
    write(tmp_path / "b/shot.png", (FIXTURES / "1b.png").read_bytes())
    code, doc = run(
        str(tmp_path / "a"), str(tmp_path / "b"), "--threshold", "0.05", "--out", str(tmp_path / "d")
    )
    assert code == 1 and doc["comparisons"][0]["diff_pixels"] == 143
    written = decode_rgba((tmp_path / "d/shot.png").read_bytes())
    assert (written == load_rgba(FIXTURES / "1diff.png")).all()


def test_include_aa_counts_antialiased_pixels(tmp_path: Path) -> None:
    write(tmp_path / "a/shot.png", (FIXTURES / "1a.png").read_bytes())
    write(tmp_path / "b/shot.png", (FIXTURES / "1b.png").read_bytes())
    expected = pixelmatch(
        load_rgba(FIXTURES / "1a.png"), load_rgba(FIXTURES / "1b.png"), MatchOptions(include_aa=True)
    ).diff_pixels
    _, doc = run(str(tmp_path / "a"), str(tmp_path / "b"), "--include-aa")
    assert doc["comparisons"][0]["diff_pixels"] == expected > 106


def test_size_mismatch_reports_both_sizes(tmp_path: Path) -> None:
    write(tmp_path / "a/s.png", png_bytes(draw_screen()))
    write(tmp_path / "b/s.png", png_bytes(draw_screen(height=400)))
    code, doc = run(str(tmp_path / "a"), str(tmp_path / "b"))
    assert code == 1
    assert doc["comparisons"][0] | {} == {
        "name": "s.png",
        "status": "size_mismatch",
        "diff_pixels": None,
        "width": 180,
        "height": 400,
        "baseline_size": [180, 320],
        "candidate_size": [180, 400],
        "threshold": 0.1,
    }


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR" + b"\xff" * 40, "corrupt"),
        (None, "corrupt or truncated"),  # the real screen cut in half
        (b"just some text\n", "not a PNG file"),
    ],
    ids=["corrupt", "truncated", "text-file"],
)
def test_bad_png_is_a_per_file_error_and_exit_2(
    folders: tuple[Path, Path], bad: bytes | None, message: str
) -> None:
    base, cand = folders
    target = cand / "pixel-8/en-US/orders.png"
    write(target, bad if bad is not None else target.read_bytes()[:900])
    code, doc = run(str(base), str(cand))
    assert code == 2
    by_name = {c["name"]: c for c in doc["comparisons"]}
    assert by_name["pixel-8/en-US/orders.png"]["status"] == "error"
    assert message in by_name["pixel-8/en-US/orders.png"]["error"]
    assert by_name["pixel-8/en-US/home.png"]["status"] == "unchanged"  # the others are still compared


def test_20000_by_20000_png_is_refused_without_a_huge_allocation(folders: tuple[Path, Path]) -> None:
    base, cand = folders
    bomb = bomb_png(20000, 20000)  # 400 megapixels, ~60 KB on disk
    write(base / "bomb.png", bomb)
    write(cand / "bomb.png", bomb[:-12] + b"\x00\x00\x00\x00IEND\xaeB`\x82")  # different bytes, same image
    tracemalloc.start()
    code, doc = run(str(base), str(cand), "--workers", "1")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    bomb_result = next(c for c in doc["comparisons"] if c["name"] == "bomb.png")
    assert code == 2
    assert bomb_result["status"] == "error" and "20000x20000" in bomb_result["error"]
    assert peak < 50_000_000


@pytest.mark.parametrize("which", ["baseline", "candidate"])
def test_empty_folder_is_bad_input(folders: tuple[Path, Path], tmp_path: Path, which: str) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    args = (str(empty), str(folders[1])) if which == "baseline" else (str(folders[0]), str(empty))
    code, doc = run(*args)
    assert code == 2
    assert doc["comparisons"] == []
    assert any("contains no .png files" in e and which in e for e in doc["errors"])


def test_missing_folder_and_bad_threshold_are_bad_input(folders: tuple[Path, Path], tmp_path: Path) -> None:
    code, doc = run(str(tmp_path / "nope"), str(folders[1]))
    assert code == 2 and "does not exist" in doc["errors"][0]
    code, doc = run(str(folders[0]), str(folders[1]), "--threshold", "3")
    assert code == 2 and "threshold must be between 0 and 1" in doc["errors"][0]


def test_ignore_option_and_rules_file(tmp_path: Path) -> None:
    write(tmp_path / "a/p/home.png", png_bytes(draw_screen()))
    write(tmp_path / "b/p/home.png", png_bytes(draw_screen("Changed")))
    assert run(str(tmp_path / "a"), str(tmp_path / "b"))[0] == 1
    assert run(str(tmp_path / "a"), str(tmp_path / "b"), "--ignore", "0,25,180,20")[0] == 0
    rules = tmp_path / "rules.yml"
    rules.write_text("screens:\n  - match: 'p/*'\n    ignore: [{x: 0, y: 25, width: 180, height: 20}]\n")
    assert run(str(tmp_path / "a"), str(tmp_path / "b"), "--rules", str(rules))[0] == 0
    rules.write_text("screens:\n  - match: 'p/*'\n    ignore: ['0,25']\n")
    code, doc = run(str(tmp_path / "a"), str(tmp_path / "b"), "--rules", str(rules))
    assert code == 2 and "screens[0].ignore" in doc["errors"][0]


def test_pool_and_single_process_agree(folders: tuple[Path, Path]) -> None:
    base, cand = folders
    for n, screen in enumerate(("home", "orders", "settings")):
        write(cand / "pixel-8/de-DE" / f"{screen}.png", png_bytes(draw_screen(screen, offset=n + 1)))
    one = run(str(base), str(cand), "--workers", "1")
    two = run(str(base), str(cand), "--workers", "2")
    assert one == two and one[0] == 1


@pytest.mark.integration
def test_installed_command_prints_a_table_and_exits_1(tmp_path: Path) -> None:
    write(tmp_path / "a/home.png", (FIXTURES / "1a.png").read_bytes())
    write(tmp_path / "b/home.png", (FIXTURES / "1b.png").read_bytes())
    instep = shutil.which("instep", path=str(Path(sys.executable).parent))
    assert instep, "the instep entry point is not installed in this environment"
    proc = subprocess.run(
        [instep, "screenshots", "diff", str(tmp_path / "a"), str(tmp_path / "b")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    assert "changed" in proc.stdout and "home.png" in proc.stdout and "106" in proc.stdout
    assert "Traceback" not in proc.stderr
