"""What SMART on FHIR needs beside django-oauth-toolkit's own tables.

- `ClientRegistration`: the clinic's side of a registered app (oauth2_provider.Application):
  its organization, its EHR launch URL, and for a backend service its public keys (a JWK
  Set by value, or the `jwks_uri` where it publishes them) and the named non-human actor
  it acts as.
- `LaunchContext`: an EHR launch started from a participant's chart (the opaque `launch`
  value handed to the app).
- `TokenContext`: the participant a patient-level grant, access token or refresh token is
  bound to (SMART's launch context, returned as `patient` in the token response).
- `AssertionJti`: the `jti` of every client assertion accepted, so a replay is refused.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from oauth2_provider.models import AccessToken, Application, Grant, RefreshToken


class ClientRegistration(models.Model):
    application = models.OneToOneField(Application, on_delete=models.CASCADE,
                                       related_name="registration")
    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT,
                                     related_name="smart_clients")
    launch_url = models.URLField(
        blank=True, help_text="Where the chart's Launch app link sends the staff member "
                              "(SMART EHR launch); empty: the app cannot be launched from a chart.")
    jwks = models.JSONField(
        null=True, blank=True, help_text="Public keys (a JWK Set) of a backend service; its "
                                         "signed client assertions are checked against them.")
    jwks_uri = models.URLField(
        max_length=500, blank=True,
        help_text="Where a backend service publishes its public keys (https), instead of "
                  "registering them by value: it can then rotate them itself.")
    actor = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="smart_client",
        help_text="The non-human actor a backend service acts as (its role decides what it "
                  "may read); every use is audited under it.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.application.name

    @property
    def is_backend(self) -> bool:
        return self.actor_id is not None


class LaunchContext(models.Model):
    """One EHR launch: staff member, app and participant; valid for LAUNCH_MINUTES."""

    LAUNCH_MINUTES = 60

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="launches")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="smart_launches")
    participant = models.ForeignKey("participants.Participant", on_delete=models.CASCADE,
                                    related_name="smart_launches")
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"launch {self.code}"


class TokenContext(models.Model):
    """The participant one grant, access token or refresh token is limited to."""

    grant = models.OneToOneField(Grant, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="smart_context")
    access_token = models.OneToOneField(AccessToken, null=True, blank=True,
                                        on_delete=models.CASCADE, related_name="smart_context")
    refresh_token = models.OneToOneField(RefreshToken, null=True, blank=True,
                                         on_delete=models.CASCADE, related_name="smart_context")
    participant = models.ForeignKey("participants.Participant", on_delete=models.CASCADE,
                                    related_name="smart_tokens")

    class Meta:
        constraints = [models.CheckConstraint(
            condition=(models.Q(grant__isnull=False) | models.Q(access_token__isnull=False)
                       | models.Q(refresh_token__isnull=False)),
            name="fhir_tokencontext_bound")]

    def __str__(self) -> str:
        return f"context {self.pk}"


class AssertionJti(models.Model):
    """A client assertion's `jti`, kept until the assertion expires (replays are refused)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="assertion_jtis")
    jti = models.CharField(max_length=255)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["application", "jti"],
                                               name="fhir_assertion_jti_once")]

    def __str__(self) -> str:
        return self.jti
