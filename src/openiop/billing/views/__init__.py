"""Billing pages: the chart's Diagnoses and Billing tabs, and the billing office."""

from .chart import (
    authorization_add,
    certification_add,
    coverage_add,
    diagnosis_entered_in_error,
    diagnosis_principal,
    diagnosis_resolve,
    financial_profile,
    icd_search,
    my_costs,
    participant_billing,
    participant_diagnoses,
    statement,
)
from .office import (
    aging,
    batch_download,
    batches,
    charges,
    claim_detail,
    claim_rescrub,
    claim_void,
    claims,
    denials,
    index,
    remittance_detail,
    remittances,
)
from .packet import ur_packet, ur_packet_pdf

__all__ = [
    "aging", "authorization_add", "batch_download", "batches", "certification_add", "charges",
    "claim_detail", "claim_rescrub", "claim_void", "claims", "coverage_add", "denials",
    "diagnosis_entered_in_error", "diagnosis_principal", "diagnosis_resolve",
    "financial_profile", "icd_search", "index", "my_costs", "participant_billing",
    "participant_diagnoses", "remittance_detail", "remittances", "statement", "ur_packet",
    "ur_packet_pdf",
]
