"""A process's parsed copy of packaged reference data, kept in var/cache for the next one.

Some offline tables (the `zipcodes` package's 42,000 ZIP centroids, the ICD-10-CM tabular
list of `simple-icd-10-cm`) cost seconds of CPU to parse, and every process pays it: each
web or worker process on its first use, each test worker. `load_or_build` keeps a marshal
file of the parsed form, named after the source package's version, that loads in
milliseconds. The cache is an optimisation only: an unreadable, damaged or unwritable file
falls back to building from the package (and is rewritten).

The file lives in the app's private var directory (which also holds its database and secret
key) and is written only by this module, so it is not data from outside.
"""

from __future__ import annotations

import importlib.metadata
import marshal
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def cache_file(name: str, package: str) -> Path | None:
    """var/cache/<name>-<package version>.marshal, or None outside a configured project."""
    try:
        from django.conf import settings

        base = Path(settings.VAR_DIR)
    except Exception:  # outside a configured Django project: no cache
        return None
    return base / "cache" / f"{name}-{importlib.metadata.version(package)}.marshal"


def load_or_build(
    name: str, package: str, build: Callable[[], T], valid: Callable[[object], bool]
) -> T:
    """The cached value if the file holds one that `valid` accepts, else `build()` (stored
    for the next process). Only marshal-able values (dicts, lists, tuples, sets, str,
    numbers, bools, None) can be cached."""
    path = cache_file(name, package)
    value: object = None
    if path is not None and path.is_file():
        try:
            value = marshal.loads(path.read_bytes())  # noqa: S302 (our own file, see above)
        except (OSError, ValueError, EOFError, TypeError):
            value = None
    if value is not None and valid(value):
        return value  # type: ignore[return-value]
    built = build()
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(marshal.dumps(built))  # type: ignore[arg-type]  # see the docstring
            os.replace(tmp, path)  # atomic: a reader sees the old file or the whole new one
        except (OSError, ValueError):
            pass
    return built
