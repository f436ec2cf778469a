from .certification import IopCertification
from .claims import (
    Adjustment,
    BillingProfile,
    Charge,
    Claim,
    ClaimBatch,
    ClaimLine,
    ClaimPayment,
    ClaimStatus,
    ClaimType,
    Remittance,
)
from .coverage import (
    Authorization,
    AuthorizationNotice,
    ChargeRuleSet,
    Coverage,
    FinancialProfile,
    Payer,
    PayerKind,
    Relationship,
    SlidingFeeSchedule,
)
from .diagnoses import Diagnosis, DiagnosisRank, DiagnosisStatus

__all__ = [
    "Adjustment", "Authorization", "AuthorizationNotice", "BillingProfile", "Charge", "ChargeRuleSet", "Claim",
    "ClaimBatch", "ClaimLine", "ClaimPayment", "ClaimStatus", "ClaimType", "Coverage",
    "Diagnosis", "DiagnosisRank", "DiagnosisStatus", "FinancialProfile", "IopCertification", "Payer", "PayerKind",
    "Relationship", "Remittance", "SlidingFeeSchedule",
]
