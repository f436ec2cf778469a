"""No tracked file carries a merge's conflict markers: a template once kept them after a
merge, and only a failing page showed it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"^(<{7} |={7}$|>{7} )", re.MULTILINE)
TEXT = {".py", ".html", ".js", ".css", ".md", ".txt", ".toml", ".cfg", ".ini", ".sh",
        ".json", ".yml", ".yaml", ".sql", ".mjs"}


def tracked_text_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                            check=True).stdout.decode().split("\0")
    return [ROOT / name for name in listed
            if name and Path(name).suffix in TEXT and not name.endswith(".min.js")
            and "/vendor/" not in name and (ROOT / name).is_file()]


def test_no_file_holds_conflict_markers():
    files = tracked_text_files()
    assert len(files) > 300  # the listing works
    found = [f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 1}"
             for path in files
             for text in [path.read_text(encoding="utf-8", errors="replace")]
             for match in MARKER.finditer(text)]
    assert not found, found
