"""Writes for medications: one path for views, API, demo and commands.

Each function checks permission and input first ("check, then do"), then writes in one
transaction together with its audit event. Nothing is written when a check fails.
`orders` holds the order checks (coding, dose, controlled substances, interactions,
allergies); `allergies` the allergy list; `monitoring` everything around the orders.
"""

from __future__ import annotations

from .allergies import (
    ALLERGY_CLASSES,
    allergy_record,
    allergy_set_status,
    no_known_allergies_record,
)
from .common import InteractionWarningsPending
from .monitoring import (
    RECONCILE_DECISIONS,
    adherence_record,
    administration_record,
    expected_on,
    naloxone_record,
    reconciliation_record,
    review_record,
    screen_record,
    side_effect_record,
    use_disorder_record,
    use_disorder_resolve,
)
from .orders import order_adjust, order_create, order_stop, resolve_coding

__all__ = [
    "ALLERGY_CLASSES", "RECONCILE_DECISIONS", "InteractionWarningsPending", "adherence_record",
    "administration_record", "allergy_record", "allergy_set_status",
    "expected_on", "naloxone_record", "no_known_allergies_record", "order_adjust",
    "order_create", "order_stop", "reconciliation_record", "resolve_coding", "review_record",
    "screen_record", "side_effect_record", "use_disorder_record", "use_disorder_resolve",
]
