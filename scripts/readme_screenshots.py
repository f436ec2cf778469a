"""Copy a few browser-test screenshots into docs/screenshots/ for the README.

Run after the browser tests (`make test` writes var/screenshots/*.png). Each picture is
scaled to 1000 px wide and reduced to a 256-colour palette so it stays well under 200 KB.

    .venv/bin/python scripts/readme_screenshots.py [name ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "var" / "screenshots"
TARGET = ROOT / "docs" / "screenshots"
DEFAULT = ("dashboard", "participant-list", "participant-chart", "participant-form-errors",
           "audit-log")
WIDTH = 1000
MAX_BYTES = 200_000


def main(names: list[str]) -> int:
    TARGET.mkdir(parents=True, exist_ok=True)
    for name in names or DEFAULT:
        source = SOURCE / f"{name}.png"
        if not source.exists():
            print(f"missing {source.relative_to(ROOT)}: run the browser tests first")
            return 1
        image = Image.open(source).convert("RGB")
        if image.width > WIDTH:
            image = image.resize((WIDTH, round(image.height * WIDTH / image.width)),
                                 Image.Resampling.LANCZOS)
        target = TARGET / f"{name}.png"
        image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)
        size = target.stat().st_size
        print(f"{target.relative_to(ROOT)}  {image.width}x{image.height}  {size // 1024} KB")
        if size > MAX_BYTES:
            print(f"  over {MAX_BYTES // 1000} KB: crop the screenshot or choose another")
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
