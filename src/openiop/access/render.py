"""Write the policy table for people: `python -m openiop.access.render > docs/access-policy.md`."""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":  # pragma: no cover
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openiop.settings")
    django.setup()
    from openiop.access.policy import render_markdown

    sys.stdout.write(render_markdown())
