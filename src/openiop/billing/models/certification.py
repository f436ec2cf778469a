"""Medicare IOP physician certification and recertification.

Medicare Part B pays for intensive outpatient services only when a physician certifies
that the individual needs them (at least 9 hours a week, under an individualized written
plan of treatment) and recertifies the need no less often than every other month: Social
Security Act §1835(a)(2)(F) as amended by the Consolidated Appropriations Act, 2023,
§4124, codified at 42 CFR 424.24(d) by the CY 2024 OPPS/ASC final rule with comment
period (CMS-1786-FC, 88 FR 81540, Nov 22, 2023; correction 89 FR 9002, Feb 9, 2024).
Certification statements are kept in the record, not sent with the claim; this model is
the clinic's log of them, with the date the next recertification is due. See
docs/billing.md, "Medicare IOP certification and recertification".
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q

# "No less often than every other month" (42 CFR 424.24(d)). OpenIOP counts it as days:
# 60 by default, the first recertification due 60 days after admission. A program may
# choose fewer days; never more than 62, the longest two consecutive calendar months
# (July and August, or December and January), so no setting can outlast the rule.
RECERT_DEFAULT_DAYS = 60
RECERT_MAX_DAYS = 62
RECERT_MAX_MESSAGE = (
    f"Medicare IOP recertification interval (iop_recertification_days): at most "
    f"{RECERT_MAX_DAYS} days. Medicare requires recertification no less often than every "
    "other month (42 CFR 424.24(d)); choose a shorter interval, never a longer one.")
RECERT_RANGE_MESSAGE = ("Medicare IOP recertification interval (iop_recertification_days): "
                        f"from 1 to {RECERT_MAX_DAYS} days.")
RECERT_MIN_MESSAGE = ("Medicare IOP recertification interval (iop_recertification_days): "
                      "at least 1 day.")


class IopCertification(models.Model):
    class Kind(models.TextChoices):
        INITIAL = "initial", "Certification at admission"
        RECERT = "recert", "Recertification"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    participant = models.ForeignKey("participants.Participant", on_delete=models.PROTECT,
                                    related_name="iop_certifications")
    episode = models.ForeignKey("care.EpisodeOfCare", on_delete=models.PROTECT,
                                related_name="iop_certifications")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    certified_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+",
                                     help_text="The physician who signed the statement.")
    certified_on = models.DateField(help_text="The date on the signed statement.")
    covers_from = models.DateField(help_text="First service day the statement covers.")
    next_due_on = models.DateField(help_text="Last day covered; recertify by this date.")
    recorded_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-covers_from", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(next_due_on__gte=F("covers_from")),
                                   name="billing_iopcert_due_after_start"),
        ]
        indexes = [models.Index(fields=["episode", "next_due_on"], name="billing_iopcert_ep_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.certified_on} (due {self.next_due_on})"

    def covers(self, day: object) -> bool:
        return self.covers_from <= day <= self.next_due_on
