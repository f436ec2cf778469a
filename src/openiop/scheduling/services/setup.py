"""The director's set-up: session templates, site closures (and public holidays), staff
hours and weekly maximum. Re-exported by `openiop.scheduling.services`.

Every function checks permission and input first, then writes in one transaction with
an audit event (DEVELOPING.md, write path).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.models import User
from openiop.accounts.permissions import Perm, require_perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.care.models import Program
from openiop.core.exceptions import Conflict, InvalidTransition, NotPermitted

from ..models import APPOINTMENT_KINDS, Session, SessionTemplate, SiteClosure, StaffHours
from .common import same_org

# --- session templates, closures, staff hours (the director's set-up) ---------------------

TEMPLATE_FIELDS = ("track", "kind", "title", "weekday", "start_time", "end_time", "duration_minutes",
                   "counts_toward_hours", "required_credentials", "room", "facilitator", "capacity")


def minutes_between(start: Any, end: Any) -> int:
    """Length in minutes of a same-day slot given as two times."""
    return (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)


def credentials_parse(raw: Any) -> list[str]:
    """'lmft, LCSW' -> ['LMFT', 'LCSW'] in the catalogue's spelling; unknown codes raise.

    The planner matches credentials exactly, so a typo would leave nobody qualified.
    """
    from openiop.accounts.models import Credential

    items = raw if isinstance(raw, list) else [c for c in str(raw or "").replace(";", ",").split(",")]
    known = {c.lower(): c for c in Credential.values}
    out, unknown = [], []
    for item in (str(i).strip() for i in items):
        if not item:
            continue
        code = known.get(item.lower())
        if code is None:
            unknown.append(item)
        elif code not in out:
            out.append(code)
    if unknown:
        raise ValidationError({"required_credentials": (
            f"Unknown credential {', '.join(unknown)}; use codes such as LMFT, LCSW, LPC, MD or NP, "
            "separated by commas.")})
    return out


def _template_problems(t: SessionTemplate) -> dict[str, str]:
    """Rules beyond the model's clean(): what the planner and the generator rely on."""
    from openiop.accounts.models import StaffProfile

    problems: dict[str, str] = {}
    org_id = t.program.organization_id
    if t.track and t.track.program_id != t.program_id:
        problems["track"] = f"Pick a track of {t.program.name}."
    if t.is_flexible and not (t.start_time or t.end_time):
        if t.kind not in APPOINTMENT_KINDS:
            problems["weekday"] = ("Only individual, family and medication appointments can be "
                                   "flexible; give a group a weekday, a start and an end time.")
        elif t.track_id:
            problems["track"] = ("A flexible appointment belongs to the whole program; "
                                 "leave the track empty.")
        elif (t.is_active and SessionTemplate.objects.filter(program=t.program, kind=t.kind, is_active=True,
                                                             weekday__isnull=True)
              .exclude(pk=t.pk).exists()):
            problems["kind"] = (f"{t.program.name} already has an active flexible "
                                f"{t.get_kind_display().lower()} template; the planner uses only one. "
                                "Edit that one instead.")
    elif t.weekday is not None and not t.track_id:
        problems["track"] = "A weekly session belongs to a track; pick one."
    if t.room and t.room.site.organization_id != org_id:
        problems["room"] = "Pick a room of your organization."
    if t.facilitator_id:
        profile = StaffProfile.objects.filter(user_id=t.facilitator_id, organization_id=org_id,
                                              is_active=True).first()
        if profile is None:
            problems["facilitator"] = "Pick an active staff member of your organization."
        elif t.required_credentials and not profile.has_credential(*t.required_credentials):
            held = profile.credential_label or "no credential"
            problems["facilitator"] = (f"{t.facilitator} holds {held}; this session needs one of "
                                       f"{', '.join(t.required_credentials)}.")
    return problems


def template_save(*, actor: User, template: SessionTemplate | None, data: dict[str, Any],
                  program: Program | None = None, version: int | None = None,
                  request: HttpRequest | None = None) -> SessionTemplate:
    """Create a session template of `program`, or update `template` if nobody saved it since
    `version` was read (else Conflict). Fixed slots take their length from their times.

    Sessions already generated keep their times; the change applies to sessions generated
    and plans made from now on.
    """
    require_perm(actor, Perm.SCHEDULE_PLAN)
    if template is not None:
        program = template.program
        if version is None:
            raise ValidationError({"version": "Send the version you edited."})
    if program is None:
        raise ValidationError({"program": "Pick a program."})
    same_org(actor, program.organization_id)
    t = (SessionTemplate.objects.select_related("program").get(pk=template.pk) if template is not None
         else SessionTemplate(program=program))
    for name in TEMPLATE_FIELDS:
        if name in data:
            setattr(t, name, data[name])
    t.title = (t.title or "").strip()
    t.required_credentials = credentials_parse(t.required_credentials)
    if t.start_time and t.end_time and t.end_time > t.start_time:
        t.duration_minutes = minutes_between(t.start_time, t.end_time)
    errors: dict[str, list[str]] = {}
    exclude = ["program", "version"]
    if t.duration_minutes is None:
        exclude.append("duration_minutes")
        if t.weekday is None and t.start_time is None and t.end_time is None:
            errors["duration_minutes"] = ["A flexible appointment needs its length in minutes (10 to 600)."]
    try:
        t.full_clean(exclude=exclude)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    for name, message in _template_problems(t).items():
        errors.setdefault(name, []).append(message)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if template is None:
            t.save()
            action, reason = Action.CREATE, "template created"
        else:
            assert version is not None  # refused above when a template is edited
            updated = SessionTemplate.objects.filter(pk=t.pk, version=version).update(
                version=version + 1, **{name: getattr(t, name) for name in TEMPLATE_FIELDS})
            if updated != 1:
                raise Conflict("Someone else saved this template after you opened it. Nothing was "
                               "saved; your entries are kept below. Check them against the current "
                               "values and save again.", field="version")
            action, reason = Action.CHANGE, "template edited"
        audit_record(actor=actor, action=action, object_type=ObjectType.SESSION_TEMPLATE, object_id=t.code,
                     organization=program.organization, request=request, reason=reason)
    t.refresh_from_db()
    return t


def template_set_active(*, actor: User, template: SessionTemplate, active: bool,
                        request: HttpRequest | None = None) -> SessionTemplate:
    """Deactivate (no new sessions or plans use it) or reactivate a template. Never deletes:
    generated sessions keep pointing at it."""
    require_perm(actor, Perm.SCHEDULE_PLAN)
    same_org(actor, template.program.organization_id)
    if template.is_active == active:
        return template
    if active:
        template.is_active = True
        problems = _template_problems(template)
        template.is_active = False
        if problems:
            raise ValidationError(problems)
    with transaction.atomic():
        SessionTemplate.objects.filter(pk=template.pk).update(is_active=active,
                                                             version=template.version + 1)
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.SESSION_TEMPLATE,
                     object_id=template.code, organization=template.program.organization,
                     request=request, reason="template reactivated" if active else "template deactivated")
    template.refresh_from_db()
    return template


def template_deactivate(*, actor: User, template: SessionTemplate,
                        request: HttpRequest | None = None) -> SessionTemplate:
    return template_set_active(actor=actor, template=template, active=False, request=request)


def closure_add(*, actor: User, organization: Any, day: date, site: Any, reason: str,
                cancel_sessions: bool = False,
                request: HttpRequest | None = None) -> tuple[SiteClosure, int]:
    """Close a site (or every site when site is None) on a day: no sessions are generated
    on it. With `cancel_sessions`, the sessions already generated there that day are
    cancelled too, in the same transaction, each booked participant notified in the app
    with alternatives (session_cancel). Returns the closure and how many were cancelled."""
    require_perm(actor, Perm.SCHEDULE_PLAN)
    same_org(actor, organization.pk)

    today = timezone.localtime(timezone.now(), organization.zone).date()
    errors: dict[str, str] = {}
    if day < today:
        errors["date"] = "Pick today or a later date; past days cannot be closed."
    if site is not None and site.organization_id != organization.pk:
        errors["site"] = "Pick a site of your organization."
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = "Say why the site is closed (e.g. Staff training day)."
    elif len(reason) > 120:
        errors["reason"] = "Keep the reason to 120 characters."
    where = site.name if site is not None else "all sites"
    duplicate = f"There is already a closure on {day:%b %-d, %Y} for {where}."
    if not errors and SiteClosure.objects.filter(organization=organization, site=site, date=day).exists():
        # Checked here too: the unique constraint does not see two all-sites rows (NULL site).
        errors["date"] = duplicate
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            closure = SiteClosure.objects.create(organization=organization, site=site, date=day,
                                                 reason=reason)
            audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.SITE_CLOSURE, object_id=closure.pk,
                         organization=organization, request=request, reason=f"closed {day} ({where})")
            cancelled = 0
            if cancel_sessions:
                from . import session_cancel  # the package imports this module first

                for session in _sessions_on(organization, site, day):
                    session_cancel(actor=actor, session=session, reason=f"Site closed: {reason}",
                                   request=request)
                    cancelled += 1
    except IntegrityError as exc:  # closure_unique_day, a concurrent add
        raise ValidationError({"date": duplicate}) from exc
    return closure, cancelled


def _sessions_on(organization: Any, site: Any, day: date) -> list[Session]:
    """Scheduled sessions that have not started, on a local day, at a site (or all)."""

    tz = organization.zone
    start = datetime.combine(day, time(0), tzinfo=tz)
    qs = (Session.objects.filter(program__organization=organization, status=Session.Status.SCHEDULED,
                                 starts_at__gte=max(start, timezone.now()),
                                 starts_at__lt=start + timedelta(days=1))
          .select_related("program__organization").order_by("starts_at"))
    if site is not None:
        qs = qs.filter(site=site)
    return list(qs)


def site_holidays(site: Any, year: int) -> dict[date, str]:
    """The public holidays of a year at a site: US federal holidays and those of the site's
    state, observed days included, from the `holidays` package."""
    import holidays as public_holidays

    try:
        days = public_holidays.country_holidays("US", subdiv=site.state, years=year)
    except NotImplementedError:  # not a state the package knows: federal holidays only
        days = public_holidays.country_holidays("US", years=year)
    return {day: str(name) for day, name in days.items()}


def closures_add_holidays(*, actor: User, organization: Any, year: int,
                          request: HttpRequest | None = None) -> list[SiteClosure]:
    """Close every site on the public holidays of a year (US federal holidays and those of
    the site's state, observed days included), from the `holidays` package. Days already
    closed are skipped, so it can run again; a clinic that stays open on one removes it."""
    require_perm(actor, Perm.SCHEDULE_PLAN)
    same_org(actor, organization.pk)
    today = timezone.localdate()
    if not today.year <= year <= today.year + 2:
        raise ValidationError({"year": f"Pick {today.year}, {today.year + 1} or {today.year + 2}."})
    sites = list(organization.sites.order_by("name"))
    existing = set(SiteClosure.objects.filter(organization=organization, date__year=year)
                   .values_list("site_id", "date"))
    closed_all = {d for site_id, d in existing if site_id is None}
    new: list[SiteClosure] = []
    for site in sites:
        for day, name in sorted(site_holidays(site, year).items()):
            if day < today or day in closed_all or (site.pk, day) in existing:
                continue
            new.append(SiteClosure(organization=organization, site=site, date=day,
                                   reason=str(name)[:120]))
            existing.add((site.pk, day))
    with transaction.atomic():
        SiteClosure.objects.bulk_create(new)
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.SITE_CLOSURE,
                     object_id=organization.code, organization=organization, request=request,
                     reason=f"{len(new)} public holidays closed for {year}")
    return new


def closure_remove(*, actor: User, closure: SiteClosure, request: HttpRequest | None = None) -> None:
    """Reopen an upcoming day (sessions for it can then be generated)."""
    require_perm(actor, Perm.SCHEDULE_PLAN)
    same_org(actor, closure.organization_id)
    if closure.date < timezone.localdate():
        raise InvalidTransition("That closure is in the past; it stays on record.")
    with transaction.atomic():
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.SITE_CLOSURE, object_id=closure.pk,
                     organization=closure.organization, request=request,
                     reason=f"closure of {closure.date} removed")
        closure.delete()


MAX_WEEKLY_HOURS = 80


def _staff_profile(actor: User, user: User) -> Any:
    profile = getattr(user, "staff_profile", None)
    if profile is None:
        raise NotPermitted("That person is not staff of your organization.")
    same_org(actor, profile.organization_id)
    return profile


def staff_hours_add(*, actor: User, user: User, weekday: int, start_time: Any, end_time: Any,
                    request: HttpRequest | None = None) -> StaffHours:
    """Add a weekly window when a staff member sees people. Their first window replaces
    the default (Monday to Friday 8:00-20:00) for the planner."""
    require_perm(actor, Perm.SCHEDULE_PLAN)
    profile = _staff_profile(actor, user)
    window = StaffHours(user=user, weekday=weekday, start_time=start_time, end_time=end_time)
    if start_time and end_time and end_time <= start_time:
        raise ValidationError({"end_time": "The window must end after it starts."})
    window.full_clean()
    clash = (StaffHours.objects.filter(user=user, weekday=weekday, start_time__lt=end_time,
                                       end_time__gt=start_time).first())
    if clash:
        raise ValidationError({"start_time": f"Overlaps the {clash} window; remove or change that one first."})
    with transaction.atomic():
        window.save()
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.STAFF_HOURS, object_id=user.code,
                     organization=profile.organization, request=request, reason=f"window added {window}")
    return window


def staff_hours_remove(*, actor: User, window: StaffHours, request: HttpRequest | None = None) -> None:
    require_perm(actor, Perm.SCHEDULE_PLAN)
    profile = _staff_profile(actor, window.user)
    with transaction.atomic():
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.STAFF_HOURS, object_id=window.user.code,
                     organization=profile.organization, request=request, reason=f"window removed {window}")
        window.delete()


def staff_max_hours_set(*, actor: User, user: User, max_weekly_hours: int,
                        request: HttpRequest | None = None) -> Any:
    """The most hours a week the planner may book for this staff member (1 to 80)."""
    require_perm(actor, Perm.SCHEDULE_PLAN)
    profile = _staff_profile(actor, user)
    if not 1 <= max_weekly_hours <= MAX_WEEKLY_HOURS:
        raise ValidationError({"max_weekly_hours": f"Enter whole hours from 1 to {MAX_WEEKLY_HOURS}."})
    if profile.max_weekly_hours == max_weekly_hours:
        return profile
    with transaction.atomic():
        old = profile.max_weekly_hours
        profile.max_weekly_hours = max_weekly_hours
        profile.save(update_fields=["max_weekly_hours"])
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.STAFF_HOURS, object_id=user.code,
                     organization=profile.organization, request=request,
                     reason=f"max weekly hours {old} -> {max_weekly_hours}")
    return profile
