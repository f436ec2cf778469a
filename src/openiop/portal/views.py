"""The participant's and the family member's own pages (mobile first, no JS needed)."""

from __future__ import annotations

from collections import OrderedDict
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openiop.access.decisions import allows
from openiop.access.decisions import scope as access_scope
from openiop.access.policy import Kind
from openiop.accounts.models import Role
from openiop.accounts.permissions import Perm, has_perm
from openiop.audit.vocabulary import ObjectType
from openiop.core.decorators import staff_required
from openiop.core.exceptions import DomainError
from openiop.core.forms import submit
from openiop.participants.models import Consent, Participant
from openiop.participants.selectors import get_participant_for_user, participants_visible_to
from openiop.participants.views import chart_context
from openiop.scheduling.models import Booking, Session
from openiop.skills import selectors as skill_selectors
from openiop.skills import services as skill_services
from openiop.skills.forms import CravingForm, HomeworkSubmitForm, RelapsePlanForm, SkillPracticeForm
from openiop.skills.models import Homework, Module, SessionModule

from . import checkins, services
from .access import (
    FAMILY_SCOPES,
    audit_view,
    deny,
    family_portal,
    own_object,
    participant_portal,
)
from .forms import MessageForm, SharedNoteForm
from .models import Message, SharedNote

# Participant portal navigation: (label, url name). Entries whose URL does not exist yet
# (another app not built) are left out, like the staff navigation.
PORTAL_NAV: tuple[tuple[str, str], ...] = (
    ("My week", "portal:home"),
    ("Check-ins", "portal:checkins"),
    ("Homework", "portal:homework"),
    ("Skills", "portal:skills"),
    ("Cravings", "portal:cravings"),
    ("My plans", "portal:plans"),
    ("Medications", "medications:my_adherence"),
    ("My costs", "billing:my_costs"),
    ("Messages", "portal:messages"),
    ("Sharing", "portal:sharing"),
)


def _nav(active: str) -> list[dict[str, Any]]:
    items = []
    for label, name in PORTAL_NAV:
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        items.append({"label": label, "url": url, "active": name == active})
    return items


def _ctx(request: HttpRequest, active: str, **extra: Any) -> dict[str, Any]:
    unread = Message.objects.filter(
        participant=request.participant, from_participant=False, read_at__isnull=True
    ).count()
    return {"portal_nav": _nav(active), "participant": request.participant, "unread": unread} | extra


def calendar_link(participant: Participant) -> str | None:
    """The participant's own private iCalendar feed (scheduling.CalendarFeed), if issued."""
    from openiop.scheduling.models import CalendarFeed

    feed = (
        CalendarFeed.objects.filter(participant=participant, revoked_at__isnull=True)
        .order_by("-pk").only("token").first()
    )
    if feed is None:
        return None
    try:
        return reverse("scheduling:feed", kwargs={"token": feed.token})
    except NoReverseMatch:
        return None


def _week_bounds(today: date, offset: int = 0) -> tuple[datetime, datetime]:
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=offset)
    tz = timezone.get_current_timezone()
    start = datetime.combine(monday, datetime.min.time(), tzinfo=tz)
    return start, start + timedelta(days=7)


def _week_days(participant: Participant, start: datetime, end: datetime, *, kinds: tuple[str, ...] | None = None) -> list[tuple[date, list[Session]]]:
    bookings = (
        Booking.objects.filter(participant=participant, session__starts_at__gte=start, session__starts_at__lt=end)
        .exclude(status=Booking.Status.CANCELLED)
        .select_related("session__room", "session__site", "session__facilitator", "session__delivered_module__module")
        .order_by("session__starts_at")
    )
    if kinds:
        bookings = bookings.filter(session__kind__in=kinds)
    days: OrderedDict[date, list[Session]] = OrderedDict(
        (start.date() + timedelta(days=i), []) for i in range(7)
    )
    for b in bookings:
        session = b.session
        days.setdefault(timezone.localtime(session.starts_at).date(), []).append(session)
    return list(days.items())


# --- participant -----------------------------------------------------------------------


@participant_portal
def home(request: HttpRequest) -> HttpResponse:
    """My week: sessions this week, what is due, quick links."""
    participant = request.participant
    audit_view(request, ObjectType.PORTAL_HOME)
    try:
        offset = max(min(int(request.GET.get("week", "0")), 4), -4)
    except ValueError:
        offset = 0
    start, end = _week_bounds(timezone.localdate(), offset)
    open_homework = Homework.objects.filter(participant=participant, status=Homework.Status.ASSIGNED).count()
    return render(request, "portal/home.html", _ctx(
        request, "portal:home",
        days=_week_days(participant, start, end), week_start=start, week_end=end - timedelta(days=1),
        offset=offset, today=timezone.localdate(), calendar_url=calendar_link(participant),
        due_checkins=checkins.due_checkins(participant), open_homework=open_homework,
    ))


@participant_portal
def checkin_list(request: HttpRequest) -> HttpResponse:
    audit_view(request, ObjectType.PORTAL_CHECKINS)
    return render(request, "portal/checkins.html", _ctx(
        request, "portal:checkins", rows=checkins.checkin_overview(request.participant),
    ))


@participant_portal
@require_http_methods(["GET", "POST"])
def checkin(request: HttpRequest, instrument: str) -> HttpResponse:
    participant = request.participant
    if instrument not in checkins.assigned_instruments(participant):
        raise deny(request, object_type=ObjectType.CHECKIN, object_id=instrument, participant=participant,
                   reason="check-in not assigned by the program")
    definition = checkins.instrument_definition(instrument)
    answers: dict[str, str] = {}
    errors: dict[str, str] = {}
    notice = None
    if request.method == "POST":
        answers = {key: request.POST.get(key, "") for key in checkins.item_keys(definition)}
        try:
            result = checkins.submit(actor=request.user, participant=participant, instrument=instrument,
                                     answers=answers, request=request)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                errors = {k: " ".join(v) for k, v in exc.message_dict.items()}
            else:
                errors = {"form": " ".join(exc.messages)}
            # An incomplete form that signals risk is kept and raises the task anyway.
            partial = checkins.submit_partial(actor=request.user, participant=participant,
                                              instrument=instrument, answers=answers,
                                              request=request)
            if partial is not None:
                notice = checkins.safety_notice(partial)
        else:
            try:
                band_label = definition.band(result.band).label
            except KeyError:
                band_label = ""
            return render(request, "portal/checkin_done.html", _ctx(
                request, "portal:checkins", result=result, definition=definition,
                band_label=band_label,
                notice=checkins.safety_notice(result) if result.safety_flag else None))
    else:
        audit_view(request, ObjectType(f"checkin_{instrument}"))
    return render(request, "portal/checkin_form.html", _ctx(
        request, "portal:checkins", definition=definition, instrument=instrument,
        items=checkins.items_for_form(definition, answers, errors), errors=errors, notice=notice,
        form_error=" ".join(v for k, v in errors.items() if k not in checkins.item_keys(definition)),
    ), status=400 if errors else 200)


@participant_portal
def homework_list(request: HttpRequest) -> HttpResponse:
    audit_view(request, ObjectType.PORTAL_HOMEWORK)
    homework = skill_selectors.homework_for(request.participant)
    return render(request, "portal/homework_list.html", _ctx(
        request, "portal:homework",
        open_items=[h for h in homework if h.status == Homework.Status.ASSIGNED],
        done_items=[h for h in homework if h.status != Homework.Status.ASSIGNED],
    ))


@participant_portal
@require_http_methods(["GET", "POST"])
def homework_detail(request: HttpRequest, code: str) -> HttpResponse:
    hw = own_object(request, Homework.objects.select_related("module", "assigned_by"), code, ObjectType.HOMEWORK)
    form = HomeworkSubmitForm(request.POST or None, initial={"response": hw.response, "version": hw.version})
    status = 200
    if request.method == "POST":
        if submit(form, lambda data: skill_services.homework_submit(
                actor=request.user, homework=hw, response=data["response"],
                expected_version=data["version"], request=request)):
            messages.success(request, "Thank you: your homework was handed in. Your therapist will review it.")
            return redirect("portal:homework")
        status = 400
    else:
        audit_view(request, ObjectType.HOMEWORK)
    return render(request, "portal/homework_detail.html", _ctx(
        request, "portal:homework", hw=hw, form=form,
        can_submit=hw.status in (Homework.Status.ASSIGNED, Homework.Status.COMPLETED),
    ), status=status)


@participant_portal
@require_http_methods(["GET", "POST"])
def skills_log(request: HttpRequest) -> HttpResponse:
    participant = request.participant
    form = SkillPracticeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if submit(form, lambda data: skill_services.skill_practice_log(
                actor=request.user, participant=participant, skill=data["skill"],
                helpfulness=data["helpfulness"], practiced_at=data["practiced_at"],
                note=data["note"], request=request)):
            messages.success(request, f"Logged: {form.cleaned_data['skill'].name}. "
                                      "Well done for practising.")
            return redirect("portal:skills")
        status = 400
    else:
        audit_view(request, ObjectType.SKILL_PRACTICE)
    return render(request, "portal/skills.html", _ctx(
        request, "portal:skills", form=form, scale=range(11),
        practices=skill_selectors.skill_practices(participant, limit=20),
        summary=skill_selectors.skill_summary(participant),
        catalog=skill_selectors.skills_catalog(),
    ), status=status)


@participant_portal
@require_http_methods(["GET", "POST"])
def cravings(request: HttpRequest) -> HttpResponse:
    participant = request.participant
    form = CravingForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if submit(form, lambda data: skill_services.craving_log(
                actor=request.user, participant=participant, request=request, **data)):
            messages.success(request, "Craving logged. Noticing it is a skill in itself.")
            return redirect("portal:cravings")
        status = 400
    else:
        audit_view(request, ObjectType.CRAVING_LOG)
    return render(request, "portal/cravings.html", _ctx(
        request, "portal:cravings", form=form, scale=range(11),
        trend=skill_selectors.craving_trend(participant),
        logs=skill_selectors.craving_logs(participant, limit=20),
    ), status=status)


def _safety_plan(participant: Participant) -> Any:
    """The clinical app's current safety plan, when that app provides one."""
    try:
        from openiop.clinical.selectors import current_safety_plan
    except ImportError:
        return None
    return current_safety_plan(participant)


@participant_portal
def plans(request: HttpRequest) -> HttpResponse:
    audit_view(request, ObjectType.PORTAL_PLANS)
    participant = request.participant
    return render(request, "portal/plans.html", _ctx(
        request, "portal:plans", plan=skill_selectors.relapse_plan_for(participant),
        safety_plan=_safety_plan(participant),
    ))


@participant_portal
@require_http_methods(["GET", "POST"])
def relapse_plan_edit(request: HttpRequest) -> HttpResponse:
    participant = request.participant
    plan = skill_selectors.relapse_plan_for(participant)
    form = RelapsePlanForm.for_plan(plan, request.POST or None)
    status = 200
    if request.method == "POST":
        if submit(form, lambda data: skill_services.relapse_plan_save(
                actor=request.user, participant=participant, sections=data,
                expected_version=data.get("version"), request=request)):
            messages.success(request, "Your relapse-prevention plan is saved.")
            return redirect("portal:plans")
        status = 400
    return render(request, "portal/relapse_plan_edit.html", _ctx(request, "portal:plans", form=form, plan=plan),
                  status=status)


@participant_portal
def safety_plan(request: HttpRequest) -> HttpResponse:
    audit_view(request, ObjectType.SAFETY_PLAN)
    return render(request, "portal/safety_plan.html", _ctx(
        request, "portal:plans", safety_plan=_safety_plan(request.participant)))


@participant_portal
@require_http_methods(["GET", "POST"])
def message_thread(request: HttpRequest) -> HttpResponse:
    participant = request.participant
    form = MessageForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if submit(form, lambda data: services.message_send(
                actor=request.user, participant=participant, body=data["body"], request=request)):
            messages.success(request, "Message sent to your care team.")
            return redirect("portal:messages")
        status = 400
    else:
        audit_view(request, ObjectType.MESSAGES)
    services.messages_mark_read(actor=request.user, participant=participant)
    thread = Message.objects.filter(participant=participant).select_related("sender").order_by("sent_at")
    return render(request, "portal/messages.html", _ctx(request, "portal:messages", form=form, thread=thread),
                  status=status)


@participant_portal
def module_view(request: HttpRequest, slug: str) -> HttpResponse:
    """A module handout the participant's groups have delivered or will deliver."""
    participant = request.participant
    module = Module.objects.filter(slug=slug, is_active=True).prefetch_related("skills").first()
    offered = module is not None and SessionModule.objects.filter(
        module=module, session__bookings__participant=participant
    ).exists()
    assigned = module is not None and Homework.objects.filter(participant=participant, module=module).exists()
    if not (offered or assigned):
        raise deny(request, object_type=ObjectType.MODULE, object_id=slug, participant=participant,
                   reason="module not part of the participant's curriculum")
    audit_view(request, ObjectType.MODULE)
    return render(request, "portal/module.html", _ctx(request, "portal:home", module=module))


@participant_portal
@require_GET
def sharing(request: HttpRequest) -> HttpResponse:
    """Who in my family can see what; withdraw access at once (sharing_withdraw) or give it
    back (sharing_regrant)."""
    participant = request.participant
    audit_view(request, ObjectType.CONSENTS)
    now = timezone.now()
    consents = list(
        Consent.objects.filter(participant=participant, kind=Consent.Kind.FAMILY_ACCESS)
        .select_related("related_person").order_by("-granted_at")
    )
    for c in consents:
        c.active = c.is_active_at(now)
        c.scope_labels = [FAMILY_SCOPES.get(s, s) for s in c.scopes or []]
    # "Give access back" on the newest withdrawn consent of someone with no access now.
    offered = {c.related_person_id for c in consents if c.active}
    for c in consents:  # newest first
        c.can_regrant = c.revoked_at is not None and c.related_person_id not in offered
        offered.add(c.related_person_id)
    return render(request, "portal/sharing.html", _ctx(request, "portal:sharing", consents=consents))


def _sharing_change(request: HttpRequest, *, withdraw: bool) -> HttpResponse:
    """Withdraw or give back a family member's access, after a confirmation."""
    participant = request.participant
    consent = Consent.objects.filter(code=request.POST.get("consent") or None).select_related(
        "participant", "related_person").first() \
        if _is_uuid(request.POST.get("consent", "")) else None
    if consent is None or consent.participant_id != participant.pk:
        raise deny(request, object_type=ObjectType.CONSENT, object_id=request.POST.get("consent", "")[:64],
                   participant=consent.participant if consent else None,
                   reason="portal: not the participant's own consent")
    who = consent.related_person.name if consent.related_person else (consent.recipient or "This person")
    if request.POST.get("confirm") != "yes":
        # One tap never withdraws or gives back access: say what will happen first.
        return render(request, "portal/sharing_confirm.html", _ctx(
            request, "portal:sharing", consent=consent, withdraw=withdraw, who=who,
            scope_labels=[FAMILY_SCOPES.get(x, x) for x in consent.scopes or []]))
    try:
        if withdraw:
            services.family_access_withdraw(actor=request.user, consent=consent, request=request)
        else:
            services.family_access_regrant(actor=request.user, consent=consent, request=request)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Done. {who} can no longer see your information in the portal."
                         if withdraw else f"Done. {who} can see what you allowed again.")
    return redirect("portal:sharing")


@participant_portal
@require_POST
def sharing_withdraw(request: HttpRequest) -> HttpResponse:
    return _sharing_change(request, withdraw=True)


@participant_portal
@require_POST
def sharing_regrant(request: HttpRequest) -> HttpResponse:
    return _sharing_change(request, withdraw=False)


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


# --- family -----------------------------------------------------------------------------


def _family_ctx(request: HttpRequest, active: str, **extra: Any) -> dict[str, Any]:
    nav = [{"label": "Home", "url": reverse("portal:family"), "active": active == "home"}]
    for scope, url_name, label in (
        ("family_schedule", "portal:family_schedule", "Family sessions"),
        ("family_education", "portal:family_education", "Family education"),
        ("shared_notes", "portal:family_notes", "Notes from the team"),
    ):
        if scope in request.family_scopes:
            nav.append({"label": label, "url": reverse(url_name), "active": active == scope})
    return {"portal_nav": nav, "related": request.related_person, "participant": request.participant,
            "scopes": request.family_scopes, "scope_labels": FAMILY_SCOPES, "family": True,
            "scope_list": [label for scope, label in FAMILY_SCOPES.items() if scope in request.family_scopes],
            } | extra


@family_portal()
def family_home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/family_home.html", _family_ctx(request, "home"))


@family_portal("family_schedule")
def family_schedule(request: HttpRequest) -> HttpResponse:
    start, _ = _week_bounds(timezone.localdate())
    end = start + timedelta(weeks=4)
    sessions = (
        Session.objects.filter(
            bookings__participant=request.participant, kind="family", starts_at__gte=start, starts_at__lt=end,
        )
        .exclude(status=Session.Status.CANCELLED)
        .exclude(bookings__status=Booking.Status.CANCELLED)
        .select_related("site", "room", "facilitator")
        .order_by("starts_at")
    )
    return render(request, "portal/family_schedule.html", _family_ctx(request, "family_schedule", sessions=sessions))


@family_portal("family_education")
def family_education(request: HttpRequest) -> HttpResponse:
    modules = Module.objects.filter(is_active=True, audience=Module.Audience.FAMILY).order_by("title")
    return render(request, "portal/family_education.html", _family_ctx(request, "family_education", modules=modules))


@family_portal("family_education")
def family_module(request: HttpRequest, slug: str) -> HttpResponse:
    module = Module.objects.filter(slug=slug, is_active=True, audience=Module.Audience.FAMILY).first()
    if module is None:
        raise deny(request, object_type=ObjectType.MODULE, object_id=slug, participant=request.participant,
                   reason="family: not a family-education module")
    return render(request, "portal/module.html", _family_ctx(request, "family_education", module=module))


@family_portal("shared_notes")
def family_notes(request: HttpRequest) -> HttpResponse:
    notes = access_scope(SharedNote.objects.filter(participant=request.participant),
                         request.user, Kind.MESSAGES).select_related("shared_by")
    return render(request, "portal/family_notes.html", _family_ctx(request, "shared_notes", notes=notes))


def portal_root(request: HttpRequest) -> HttpResponse:
    """/portal/: participants get their week, family members their home page."""
    if request.user.is_authenticated and request.user.role == Role.FAMILY:
        return family_home(request)
    return home(request)


# --- staff side of messages ------------------------------------------------------------


@staff_required(Perm.CLINICAL_VIEW)
def inbox(request: HttpRequest) -> HttpResponse:
    """Participants of this organization with messages the team has not read yet: those
    whose messages the user may open (a Part 2 participant's: the care team's)."""
    from django.db.models import Count, Max, Q

    rows = (
        access_scope(participants_visible_to(request.user), request.user, Kind.MESSAGES,
                     participant_path="")
        .filter(portal_messages__isnull=False)
        .annotate(
            unread=Count("portal_messages", filter=Q(portal_messages__from_participant=True,
                                                     portal_messages__read_at__isnull=True)),
            last=Max("portal_messages__sent_at"),
        )
        .order_by("-unread", "-last")[:100]
    )
    return render(request, "portal/inbox.html", {"rows": rows})


def _staff_messages_page(request: HttpRequest, participant: Participant, *,
                        form: MessageForm | None = None,
                        note_form: SharedNoteForm | None = None) -> HttpResponse:
    thread = Message.objects.filter(participant=participant).select_related("sender").order_by("sent_at")
    notes = SharedNote.objects.filter(participant=participant).select_related("shared_by")[:10]
    return render(request, "portal/staff_messages.html",
                  chart_context(request, participant, active_tab="") | {
                      "thread": thread, "form": form or MessageForm(),
                      "note_form": note_form or SharedNoteForm(), "notes": notes})


@staff_required(Perm.CLINICAL_VIEW)
@require_http_methods(["GET", "POST"])
def staff_messages(request: HttpRequest, code: str) -> HttpResponse:
    """The participant's message thread; a POST sends a message (a shared note for the family
    goes to staff_shared_note)."""
    perm = Perm.CLINICAL_WRITE if request.method == "POST" else Perm.CLINICAL_VIEW
    participant = get_participant_for_user(request.user, code, request=request, perm=perm, object_type=ObjectType.MESSAGES)
    form = MessageForm(request.POST or None)
    if request.method == "POST":
        if submit(form, lambda data: services.message_send(
                actor=request.user, participant=participant, body=data["body"], request=request)):
            messages.success(request, "Message sent; the participant sees it in the portal.")
            return redirect("portal:staff_messages", code=participant.code)
    elif has_perm(request.user, Perm.CLINICAL_WRITE) and allows(
            request.user, Kind.MESSAGES, participant, action="change"):
        # Someone reading under a break-the-glass grant leaves the messages unread.
        services.messages_mark_read(actor=request.user, participant=participant)
    return _staff_messages_page(request, participant, form=form)


@staff_required(Perm.CLINICAL_VIEW)
@require_POST
def staff_shared_note(request: HttpRequest, code: str) -> HttpResponse:
    """Share a note that family members with consent can read."""
    participant = get_participant_for_user(request.user, code, request=request,
                                           perm=Perm.CLINICAL_WRITE, object_type=ObjectType.MESSAGES)
    note_form = SharedNoteForm(request.POST)
    if submit(note_form, lambda data: services.shared_note_create(
            actor=request.user, participant=participant, request=request, **data)):
        messages.success(request, "Note shared; family members with consent can read it.")
        return redirect("portal:staff_messages", code=participant.code)
    return _staff_messages_page(request, participant, note_form=note_form)
