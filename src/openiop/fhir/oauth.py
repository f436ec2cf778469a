"""SMART launch context and backend services on django-oauth-toolkit.

- Launch context (https://hl7.org/fhir/smart-app-launch/STU2/scopes-and-launch-context.html):
  with `launch/patient` (or `patient/` scopes without an EHR launch) the staff member picks,
  on the authorize page, one participant they may see; with `launch` the app was started
  from a participant's chart (`launch_from_chart` hands it an opaque `launch` value). The
  participant is bound to the grant, then to the access and refresh tokens
  (models.TokenContext), and named as `patient` in the token response.
- Backend services (https://hl7.org/fhir/smart-app-launch/STU2/backend-services.html): the
  client credentials grant, the client authenticated by a JWT it signed with its private
  key (`private_key_jwt`, RFC 7523 section 2.2): RS384 or ES384, checked against the JWK
  Set registered for it (by value, or published at its `jwks_uri`: jwks.py); `iss` =
  `sub` = its client id, `aud` = the token URL, `exp` no more than five minutes ahead,
  and a `jti` never seen before. Its access tokens live five minutes and act as the
  client's named actor (models.ClientRegistration.actor).
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from django import forms
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.views.decorators.http import require_POST
from jwcrypto import jwk, jws
from jwcrypto.common import JWException, json_decode
from oauth2_provider.forms import AllowForm
from oauth2_provider.models import Application
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import get_scopes_backend
from oauth2_provider.views import AuthorizationView
from oauthlib.oauth2.rfc6749.errors import InvalidClientError

from openiop.accounts.permissions import Perm, has_perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.core.chart import Panel
from openiop.core.decorators import staff_required
from openiop.participants.models import Participant
from openiop.participants.selectors import get_participant_for_user, participants_visible_to

from .jwks import JwksUnavailable, keys_at, parse_jwks
from .models import AssertionJti, ClientRegistration, LaunchContext, TokenContext
from .smart import is_backend

if TYPE_CHECKING:
    from uuid import UUID

    from openiop.accounts.models import User
    from openiop.care.models import EpisodeOfCare

log = logging.getLogger(__name__)

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_ALGS = ("RS384", "ES384")  # the two SMART Backend Services requires servers to take
MAX_ASSERTION_SECONDS = 300  # "exp ... no more than five minutes in the future"
BACKEND_TOKEN_SECONDS = 300  # access tokens of backend services (the guide recommends five minutes)
PICKER_ROWS = 20


def fhir_base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/fhir/R4")


# --- backend services: the signed client assertion -------------------------------------------

def _refuse(description: str, request: Any) -> InvalidClientError:
    log.info("SMART client assertion refused: %s", description)
    return InvalidClientError(description=description, request=request)


def _registered_keys(registration: ClientRegistration, header: dict[str, Any],
                     request: Any) -> jwk.JWKSet:
    """The keys registered by value, or those published at the registered jwks_uri."""
    jku = header.get("jku")
    if jku is not None and jku != registration.jwks_uri:
        # SMART: a jku header must be the JWKS URL registered for this client.
        raise _refuse("client_assertion jku is not the jwks_uri registered for this client",
                      request)
    if registration.jwks_uri:
        kid = header.get("kid")
        try:
            return keys_at(registration.jwks_uri, kid=kid if isinstance(kid, str) else None)
        except JwksUnavailable as exc:
            raise _refuse(f"the keys at the registered jwks_uri are unavailable: {exc}",
                          request) from exc
    try:
        return parse_jwks(registration.jwks)
    except ValueError as exc:
        raise _refuse("the registered keys are not usable", request) from exc


def verify_assertion(assertion: str, token_urls: set[str], request: Any) -> Application:
    """The application whose valid client assertion this is (its jti now spent), else
    InvalidClientError naming what is wrong."""
    token = jws.JWS()
    try:
        token.deserialize(assertion)
        header = token.jose_header
        claims = json_decode(token.objects["payload"])
    except (JWException, ValueError, TypeError, KeyError) as exc:
        raise _refuse("client_assertion is not a signed JWT", request) from exc
    if not isinstance(header, dict) or header.get("alg") not in ASSERTION_ALGS:
        raise _refuse(f"client_assertion must be signed with {' or '.join(ASSERTION_ALGS)}",
                      request)
    if not isinstance(claims, dict):
        raise _refuse("client_assertion has no claims", request)
    client_id = claims.get("iss")
    if not isinstance(client_id, str) or claims.get("sub") != client_id:
        raise _refuse("client_assertion: iss and sub must both be the client id", request)
    if getattr(request, "client_id", None) and request.client_id != client_id:
        raise _refuse("client_id does not match the assertion's iss", request)
    registration = ClientRegistration.objects.select_related("application", "actor").filter(
        application__client_id=client_id).first()
    if registration is None or not (registration.jwks or registration.jwks_uri) or not (
            is_backend(registration.application)):
        raise _refuse("no backend service is registered with this client id", request)
    kid = header.get("kid")
    keys = _registered_keys(registration, header, request)
    candidates = [k for k in keys if kid is None or k.get("kid") == kid]
    for key in candidates:
        try:
            token.verify(key, alg=header["alg"])
            break
        except (JWException, ValueError, TypeError):
            continue
    else:
        if not candidates:
            raise _refuse(f"no registered key has the client_assertion's kid {kid!r}", request)
        raise _refuse("client_assertion signature does not match a registered key", request)
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if not {u.rstrip("/") for u in token_urls} & {
            a.rstrip("/") for a in audiences if isinstance(a, str)}:
        raise _refuse(f"client_assertion aud must be the token URL {min(token_urls)}", request)
    now = timezone.now().timestamp()
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise _refuse("client_assertion needs an exp (seconds since 1970)", request)
    if exp <= now:
        raise _refuse("client_assertion has expired", request)
    if exp > now + MAX_ASSERTION_SECONDS:
        raise _refuse("client_assertion exp is more than five minutes ahead", request)
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > 255:
        raise _refuse("client_assertion needs a jti (a unique id, at most 255 characters)",
                      request)
    try:
        with transaction.atomic():
            AssertionJti.objects.create(application=registration.application, jti=jti,
                                        expires_at=datetime.fromtimestamp(exp, tz=UTC))
    except IntegrityError as exc:
        raise _refuse("client_assertion jti was already used (replay refused)",
                      request) from exc
    if registration.actor is None or not registration.actor.is_active:
        raise _refuse("this backend service is disabled", request)
    return registration.application


def remove_spent_jtis(*, now: datetime | None = None) -> int:
    """Forget jtis of assertions that have expired (they would be refused anyway)."""
    deleted, _ = AssertionJti.objects.filter(expires_at__lt=now or timezone.now()).delete()
    return deleted


def token_lifetime(request: Any) -> int:
    """oauthlib's `expires_in` (OAUTH2_PROVIDER EXTRA_SERVER_KWARGS token_expires_in)."""
    from django.conf import settings

    if getattr(request, "grant_type", "") == "client_credentials":
        return BACKEND_TOKEN_SECONDS
    return int(settings.OAUTH2_PROVIDER.get("ACCESS_TOKEN_EXPIRE_SECONDS", 3600))


# --- the validator ------------------------------------------------------------------------

class SmartValidator(OAuth2Validator):
    """OAUTH2_PROVIDER["OAUTH2_VALIDATOR_CLASS"]: adds the launch context and the signed
    client assertion to django-oauth-toolkit's validator."""

    def authenticate_client(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        assertion_type = getattr(request, "client_assertion_type", None)
        assertion = getattr(request, "client_assertion", None)
        if assertion_type or assertion:
            if assertion_type != JWT_BEARER or not assertion:
                raise _refuse(f"client_assertion_type must be {JWT_BEARER}", request)
            application = verify_assertion(assertion, self._token_urls(request), request)
            request.client = application
            request.client_id = application.client_id
            return True
        authenticated = super().authenticate_client(request, *args, **kwargs)
        if authenticated and is_backend(request.client):
            raise _refuse("a backend service authenticates with a signed client_assertion",
                          request)
        return authenticated

    def _token_urls(self, request: Any) -> set[str]:
        """This token endpoint's absolute URL as the request reached it (and as
        OPENIOP_SITE_URL names it): the `aud` a client assertion must carry."""
        from django.conf import settings

        path = urlsplit(request.uri).path
        secure = request.headers.get("X_DJANGO_OAUTH_TOOLKIT_SECURE")
        host = self.build_http_request(request).get_host()
        urls = {f"{'https' if secure else 'http'}://{host}{path}"}
        if settings.OPENIOP_SITE_URL:
            urls.add(settings.OPENIOP_SITE_URL.rstrip("/") + path)
        return urls

    def _create_authorization_code(self, request: Any, code: Any, expires: Any = None) -> Any:
        grant = super()._create_authorization_code(request, code, expires)
        participant_id = getattr(request, "smart_patient_id", None)
        if participant_id:
            TokenContext.objects.create(grant=grant, participant_id=participant_id)
        return grant

    def validate_code(self, client_id: str, code: str, client: Any, request: Any,
                      *args: Any, **kwargs: Any) -> bool:
        valid = super().validate_code(client_id, code, client, request, *args, **kwargs)
        if valid:
            request.smart_patient_id = TokenContext.objects.filter(
                grant__code=code, grant__application=client).values_list(
                "participant_id", flat=True).first()
        return valid

    def validate_refresh_token(self, refresh_token: str, client: Any, request: Any,
                               *args: Any, **kwargs: Any) -> bool:
        valid = super().validate_refresh_token(refresh_token, client, request, *args, **kwargs)
        instance = getattr(request, "refresh_token_instance", None)
        if valid and instance is not None:
            request.smart_patient_id = TokenContext.objects.filter(
                refresh_token=instance).values_list("participant_id", flat=True).first()
        return valid

    def _create_access_token(self, expires: Any, request: Any, token: Any,
                             source_refresh_token: Any = None) -> Any:
        access = super()._create_access_token(expires, request, token, source_refresh_token)
        participant_id = getattr(request, "smart_patient_id", None)
        if participant_id:
            TokenContext.objects.create(access_token=access, participant_id=participant_id)
        return access

    def _create_refresh_token(self, request: Any, refresh_token_code: str, access_token: Any,
                              previous_refresh_token: Any) -> Any:
        refresh = super()._create_refresh_token(request, refresh_token_code, access_token,
                                                previous_refresh_token)
        participant_id = getattr(request, "smart_patient_id", None)
        if participant_id:
            TokenContext.objects.update_or_create(refresh_token=refresh,
                                                  defaults={"participant_id": participant_id})
        return refresh

    def save_bearer_token(self, token: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        result = super().save_bearer_token(token, request, *args, **kwargs)
        participant_id = getattr(request, "smart_patient_id", None)
        if participant_id:  # SMART: the launch context is returned beside the token
            token["patient"] = str(Participant.objects.values_list("code", flat=True).get(
                pk=participant_id))
        return result


# --- the authorize page: picking the participant, or the chart's launch ---------------------

class SmartAllowForm(AllowForm):
    launch = forms.CharField(required=False, widget=forms.HiddenInput())
    aud = forms.CharField(required=False, widget=forms.HiddenInput())
    patient = forms.CharField(required=False)


def wants_patient(scopes: list[str]) -> bool:
    return "launch/patient" in scopes or any(s.startswith("patient/") for s in scopes)


def launch_for(user: User, application: Any, launch: str) -> Participant | None:
    """The participant of a valid EHR launch (this user, this app, not expired)."""
    code = _uuid_or_none(launch)
    if code is None:
        return None
    found = LaunchContext.objects.select_related("participant").filter(
        code=code, user=user, application=application,
        created_at__gt=timezone.now() - timedelta(minutes=LaunchContext.LAUNCH_MINUTES)).first()
    if found is None:
        return None
    # still someone the user may see (access can change after the launch)
    return participants_visible_to(user).filter(pk=found.participant_id).first()


def candidates(user: User, query: str) -> QuerySet:
    people = participants_visible_to(user)
    for word in query.split()[:4]:
        people = people.filter(Q(legal_last_name__istartswith=word) | Q(
            legal_first_name__istartswith=word) | Q(preferred_name__istartswith=word) | Q(
            mrn__iexact=word))
    return people.order_by("legal_last_name", "legal_first_name", "pk")


class SmartAuthorizationView(AuthorizationView):
    form_class = SmartAllowForm
    smart_patient: Participant | None = None

    def _aud_problem(self, aud: str) -> str:
        """SMART's `aud` must name this FHIR server (a token must not be asked for another);
        the base URL as this request reached it, or as OPENIOP_SITE_URL names it."""
        from django.conf import settings

        bases = {fhir_base(self.request)}
        if settings.OPENIOP_SITE_URL:
            bases.add(settings.OPENIOP_SITE_URL.rstrip("/") + "/fhir/R4")
        if aud and aud.rstrip("/") not in bases:
            return f"aud must be this server's FHIR base URL {fhir_base(self.request)}."
        return ""

    def _error_page(self, description: str, status: int = 400) -> HttpResponse:
        return self.render_to_response(
            {"error": {"error": "invalid_request", "description": description}}, status=status)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        problem = self._aud_problem(request.GET.get("aud", ""))
        if problem:
            return self._error_page(problem)
        scopes = request.GET.get("scope", "").split()
        launch = request.GET.get("launch", "")
        if "launch" in scopes and not launch:
            return self._error_page("The launch scope needs the launch parameter the app "
                                    "received from the chart.")
        if launch:
            application = Application.objects.filter(
                client_id=request.GET.get("client_id", "")).first()
            self.smart_patient = launch_for(request.user, application, launch) \
                if request.user.is_authenticated else None
            if request.user.is_authenticated and self.smart_patient is None:
                return self._error_page("This launch is unknown or expired; launch the app "
                                        "again from the participant's chart.")
        if wants_patient(scopes) or launch:
            # the participant is chosen (or shown) on the page: never approve silently
            request.GET = request.GET.copy()
            request.GET.pop("approval_prompt", None)
        return super().get(request, *args, **kwargs)

    def get_initial(self) -> dict[str, Any]:
        return super().get_initial() | {"launch": self.request.GET.get("launch", ""),
                                        "aud": self.request.GET.get("aud", "")}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        scopes = kwargs.get("scopes") or []
        query = self.request.GET.get("patient_q", "").strip()[:100]
        context["launch_patient"] = self.smart_patient
        context["picks_patient"] = (self.smart_patient is None and wants_patient(scopes)
                                    and "error" not in kwargs)
        if context["picks_patient"]:
            context["patient_q"] = query
            context["patients"] = list(candidates(self.request.user, query)[:PICKER_ROWS])
            context["search_params"] = [(k, v) for k, v in self.request.GET.items()
                                        if k != "patient_q"]
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        data = form.cleaned_data
        scopes = (data.get("scope") or "").split()
        problem = self._aud_problem(data.get("aud") or "")
        if problem:
            return self._error_page(problem)
        application = Application.objects.filter(client_id=data.get("client_id")).first()
        if data.get("allow") and application is not None:
            launch = data.get("launch") or ""
            if launch:
                self.smart_patient = launch_for(self.request.user, application, launch)
                if self.smart_patient is None:
                    return self._error_page("This launch is unknown or expired; launch the "
                                            "app again from the participant's chart.")
            elif "launch" in scopes:
                return self._error_page("The launch scope needs the launch parameter.")
            elif wants_patient(scopes):
                self.smart_patient = candidates(self.request.user, "").filter(
                    code__in=[_uuid_or_none(data.get("patient"))]).first()
                if self.smart_patient is None:
                    return self._pick_again(form, application, scopes)
            if self.smart_patient is not None:
                audit_record(actor=self.request.user, action=Action.VIEW, object_type=ObjectType.OAUTH_LAUNCH,
                             object_id=application.client_id, participant=self.smart_patient,
                             request=self.request,
                             reason=f"SMART app {application.name} opened for this "
                                    "participant"[:500])
        return super().form_valid(form)

    def _pick_again(self, form: Any, application: Any, scopes: list[str]) -> HttpResponse:
        form.add_error("patient", "Choose the participant the app may open.")
        described = get_scopes_backend().get_all_scopes()
        context = self.get_context_data(
            form=form, application=application, scopes=scopes,
            scopes_descriptions=[described.get(s, s) for s in scopes])
        return self.render_to_response(context, status=422)

    def create_authorization_response(self, request: HttpRequest, scopes: str,
                                      credentials: dict[str, Any], allow: bool) -> Any:
        if allow and self.smart_patient is not None:
            credentials = credentials | {"smart_patient_id": self.smart_patient.pk}
        return super().create_authorization_response(request, scopes, credentials, allow)


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# --- EHR launch from the chart -------------------------------------------------------------

def launchable_apps(user: User) -> QuerySet:
    return ClientRegistration.objects.filter(
        organization_id=user.staff_organization_id, actor__isnull=True,
    ).exclude(launch_url="").select_related("application").order_by("application__name", "pk")


def launch_panel(request: HttpRequest, participant: Participant, episode: EpisodeOfCare | None) -> Panel | None:
    """The chart overview's "Launch app" buttons (registered apps with a launch URL)."""
    user = request.user
    if not has_perm(user, Perm.PARTICIPANT_VIEW) or user.staff_organization_id is None:
        return None
    apps = list(launchable_apps(user))
    if not apps:
        return None
    return Panel("fhir/_launch_panel.html", {"apps": apps, "participant": participant})


@staff_required(Perm.PARTICIPANT_VIEW)
@require_POST
def launch_from_chart(request: HttpRequest, code: UUID) -> HttpResponse:
    """POST from the chart: record the launch, send the staff member to the app's launch URL
    with `iss` (this FHIR server) and `launch` (SMART EHR launch)."""
    participant = get_participant_for_user(request.user, code, request=request,
                                           audit_action=None)
    registration = launchable_apps(request.user).filter(
        application__client_id=request.POST.get("client", "")).first()
    if registration is None:
        raise Http404
    launch = LaunchContext.objects.create(application=registration.application,
                                          user=request.user, participant=participant,
                                          created_at=timezone.now())
    audit_record(actor=request.user, action=Action.VIEW, object_type=ObjectType.OAUTH_LAUNCH,
                 object_id=registration.application.client_id, participant=participant,
                 request=request,
                 reason=f"SMART app {registration.application.name} launched from the "
                        "chart"[:500])
    parts = urlsplit(registration.launch_url)
    query = "&".join(filter(None, [parts.query, urlencode(
        {"iss": fhir_base(request), "launch": str(launch.code)})]))
    return HttpResponseRedirect(urlunsplit(parts._replace(query=query)))
