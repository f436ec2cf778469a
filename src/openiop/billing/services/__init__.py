"""Writes for billing, one path for views, API, demo and commands (see each module)."""

from .certification import certification_record
from .charges import CaptureResult, capture_charges
from .claims import batch_create, build_claims, claim_void, rescrub
from .coverage import (
    authorization_add,
    coverage_add,
    coverage_end,
    financial_profile_set,
    payer_create,
    sliding_fee_schedule_set,
)
from .diagnoses import diagnosis_add, diagnosis_make_principal, diagnosis_resolve
from .notices import authorization_notices_send
from .remittance import remittance_post

__all__ = [
    "CaptureResult", "authorization_add", "authorization_notices_send", "batch_create", "build_claims", "capture_charges",
    "certification_record", "claim_void", "coverage_add", "coverage_end", "diagnosis_add", "diagnosis_make_principal",
    "diagnosis_resolve", "financial_profile_set", "payer_create", "remittance_post", "rescrub",
    "sliding_fee_schedule_set",
]
