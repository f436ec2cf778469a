"""What the scheduling services share."""

from __future__ import annotations

from openiop.access.decisions import require_organization

# A write on another organization's rows is refused by the one access decision.
same_org = require_organization
