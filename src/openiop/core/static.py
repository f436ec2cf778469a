"""Static files served by the app itself (no CDN), through WhiteNoise.

WhiteNoise, with `WHITENOISE_USE_FINDERS`, walks every static folder and builds a response
description for every file each time its middleware is created. A web process creates it
once; Django's test client creates it for every client, and that walk was about 6 % of the
test suite's CPU. Here the walk's result is kept per process, keyed by everything that
shapes it (settings that choose the files and their headers), and reused by every later
instance. Nothing changes for a served file: the same files, the same headers, found the
same way; a file changed on disk is picked up on the next process, as before (or on every
request with `WHITENOISE_AUTOREFRESH`, which does not walk at start at all).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from whitenoise.middleware import WhiteNoiseMiddleware


class StaticFilesMiddleware(WhiteNoiseMiddleware):  # type: ignore[misc]  # untyped library
    _walked: ClassVar[dict[str, dict[str, Any]]] = {}

    @staticmethod
    def _walk_key() -> str:
        """Every setting that chooses the files or shapes their headers."""
        shaping = sorted((name, getattr(settings, name)) for name in dir(settings)
                         if name.startswith("WHITENOISE_"))
        return repr((shaping, settings.DEBUG, settings.STATIC_URL, settings.FORCE_SCRIPT_NAME,
                     settings.STATICFILES_DIRS, settings.STATICFILES_FINDERS,
                     settings.INSTALLED_APPS))

    def add_files_from_finders(self) -> None:
        key = self._walk_key()
        found = self._walked.get(key)
        if found is None:
            before = dict(self.files)
            super().add_files_from_finders()
            found = {url: f for url, f in self.files.items() if before.get(url) is not f}
            self._walked[key] = found
        else:
            self.files.update(found)
