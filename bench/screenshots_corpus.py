"""A realistic corpus for bench/screenshots.py: phone screens rendered by headless Chromium at
390x844 CSS px and device scale factor 3 (1170x2532 PNGs). Each pair is one of: the same page
rendered again, a small change (a price, a badge, a word), or a shifted layout (a banner pushes
everything down)."""

from __future__ import annotations

import random
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--window-size=390,844",
    "--force-device-scale-factor=3",
]
KINDS = ("same", "small", "shift")
_SCREENS = ("home", "orders", "product", "settings", "profile")
_DEVICES = (("iphone-15", "en-US"), ("iphone-15", "de-DE"), ("pixel-8", "en-US"), ("pixel-8", "fr-FR"))
_WORDS = (
    "Orders Basket Delivered Shipped Returned Invoice Coffee Beans Grinder Filter Kettle Mug Espresso".split()
)


@dataclass(frozen=True)
class Pair:
    name: str
    kind: str
    baseline: Path
    candidate: Path


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def build_corpus(root: Path, pairs: int, chromium: str, *, parallel: int = 3) -> list[Pair]:
    """Render the corpus under root (reused when already complete): baseline/ and candidate/."""
    plan = _plan(pairs)
    jobs: list[tuple[str, Path]] = []
    for name, kind, seed in plan:
        base, cand = root / "baseline" / name, root / "candidate" / name
        if not base.exists():
            jobs.append((_page(seed, kind=None), base))
        if not cand.exists():
            jobs.append((_page(seed, kind=kind), cand))
    if jobs:
        print(f"rendering {len(jobs)} screenshots with {chromium} ({parallel} at a time)...", flush=True)
        with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(parallel) as pool:
            list(pool.map(lambda job: _render(chromium, job[0], job[1], Path(tmp)), jobs))
    return [Pair(name, kind, root / "baseline" / name, root / "candidate" / name) for name, kind, _ in plan]


def _plan(pairs: int) -> list[tuple[str, str, int]]:
    plan = []
    for n in range(pairs):
        device, locale = _DEVICES[n % len(_DEVICES)]
        screen = _SCREENS[(n // len(_DEVICES)) % len(_SCREENS)]
        variant = n // (len(_DEVICES) * len(_SCREENS))
        # 40% identical, 40% small change, 20% shifted layout.
        kind = ("same", "small", "same", "small", "shift")[n % 5]
        plan.append((f"{device}/{locale}/{screen}-{variant}.png", kind, n))
    return plan


def _render(chromium: str, html: str, target: Path, tmp: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    page = tmp / (target.as_posix().replace("/", "_") + ".html")
    page.write_text(html, encoding="utf-8")
    profile = tmp / ("profile-" + page.stem)
    subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={target}", page.as_uri()],
        check=True,
        capture_output=True,
        timeout=120,
    )
    shutil.rmtree(profile, ignore_errors=True)


def _page(seed: int, *, kind: str | None) -> str:
    """One app screen; kind None is the baseline, 'same' renders it again, 'small' changes one
    detail, 'shift' adds a banner at the top."""
    rng = random.Random(seed)
    hue = rng.randrange(360)
    rows = []
    changed_row = rng.randrange(8)
    for i in range(14):
        title = f"{rng.choice(_WORDS)} {rng.choice(_WORDS).lower()} #{rng.randrange(1000, 9999)}"
        price = f"{rng.randrange(3, 300)}.{rng.randrange(100):02d}"
        badge = rng.choice(["New", "Sale", "", "Back", ""])
        if kind == "small" and i == changed_row:
            price = price[:-1] + str((int(price[-1]) + 3) % 10)
            badge = "Sold out" if badge != "Sold out" else "New"
        rows.append(
            f'<li><div class="thumb" style="background:linear-gradient(135deg,hsl({(hue + i * 23) % 360},70%,60%),'
            f'hsl({(hue + i * 41) % 360},60%,40%))"></div><div class="text"><b>{title}</b>'
            f"<span>Delivered {rng.randrange(1, 28)} Nov · {rng.randrange(1, 9)} items</span></div>"
            f'<div class="price">€{price}{f"<em>{badge}</em>" if badge else ""}</div></li>'
        )
    banner = (
        '<div class="banner">Free delivery this weekend on orders over €30</div>' if kind == "shift" else ""
    )
    return f"""<!doctype html><html><head><meta charset="utf-8"><style>
body{{margin:0;font:15px/1.35 -apple-system,Roboto,'DejaVu Sans',sans-serif;background:#f6f6f8;color:#1c1c1e}}
.status{{height:44px;background:hsl({hue},45%,22%);color:#fff;display:flex;justify-content:space-between;
padding:0 18px;align-items:center;font-weight:600}}
.banner{{background:#ffd60a;padding:12px 18px;font-weight:600}}
header{{padding:14px 18px 6px}} h1{{margin:0;font-size:30px}}
.search{{margin:8px 18px;padding:10px 14px;border-radius:10px;background:#e4e4e9;color:#8e8e93}}
ul{{list-style:none;margin:0;padding:0 12px}}
li{{display:flex;align-items:center;background:#fff;margin:8px 0;border-radius:14px;padding:10px;
box-shadow:0 1px 3px rgba(0,0,0,.12)}}
.thumb{{width:52px;height:52px;border-radius:10px;flex:none}} .text{{flex:1;margin-left:12px}}
.text span{{display:block;color:#6c6c70;font-size:13px}} .price{{text-align:right;font-weight:600}}
.price em{{display:block;font-style:normal;font-size:11px;color:#fff;background:#ff3b30;border-radius:6px;padding:1px 6px;margin-top:4px}}
nav{{position:fixed;bottom:0;left:0;right:0;height:64px;background:#fff;border-top:1px solid #d1d1d6;
display:flex;justify-content:space-around;align-items:center;color:hsl({hue},60%,40%)}}
</style></head><body><div class="status"><span>9:41</span><span>5G ▮▮▮ 87%</span></div>{banner}
<header><h1>{rng.choice(_WORDS)}</h1></header><div class="search">Search {rng.choice(_WORDS).lower()}…</div>
<ul>{"".join(rows)}</ul><nav><span>Home</span><span>Orders</span><span>Basket</span><span>Profile</span></nav>
</body></html>"""
