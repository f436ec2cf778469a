"""core.filecache: parsed reference data kept in var/cache between processes."""

from __future__ import annotations

import pytest

from openiop.core import filecache


def _valid(value: object) -> bool:
    return isinstance(value, dict) and value.get("rows") == 3


@pytest.fixture
def private_var(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def test_the_first_process_builds_and_the_next_reads_the_file(private_var):
    calls: list[int] = []

    def build() -> dict[str, object]:
        calls.append(1)
        return {"rows": 3, "names": ["a", "b"], "ids": {1, 2}}

    first = filecache.load_or_build("table", "django", build, _valid)
    (path,) = (private_var / "cache").glob("table-*.marshal")
    assert path.name == f"table-{__import__('django').get_version()}.marshal"
    second = filecache.load_or_build("table", "django", build, _valid)
    assert first == second == {"rows": 3, "names": ["a", "b"], "ids": {1, 2}}
    assert calls == [1]  # the second read the file


@pytest.mark.parametrize("damage", [b"\x00garbage", b"", None])
def test_a_damaged_or_unexpected_file_is_rebuilt_and_rewritten(private_var, damage):
    import marshal

    path = filecache.cache_file("table", "django")
    assert path is not None
    path.parent.mkdir(parents=True)
    # Garbage, an empty file, or a readable value the caller does not accept.
    path.write_bytes(damage if damage is not None else marshal.dumps({"rows": 2}))
    value = filecache.load_or_build("table", "django", lambda: {"rows": 3}, _valid)
    assert value == {"rows": 3}
    assert marshal.loads(path.read_bytes()) == {"rows": 3}  # noqa: S302 (written just above)


def test_an_unwritable_cache_still_answers(private_var):
    (private_var / "cache").write_text("a file where the folder should be")
    assert filecache.load_or_build("table", "django", lambda: {"rows": 3}, _valid) == {"rows": 3}
