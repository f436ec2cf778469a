"""Planning a week: run the engine (in a background job), review the diff, apply it.

`plan_week_start` validates the request and queues a job; the job runs `plan_week`, which
reports its phase, the best plan so far and the proven bound while CP-SAT searches, and
stores a typed `PlanProposal`. `plan_apply` books exactly what the approved diff shows.
"""

from __future__ import annotations

import time as clock
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.models import User
from openiop.accounts.permissions import Perm, require_perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.core.exceptions import Conflict, InvalidTransition

from .. import engine
from ..hours import week_bounds
from ..models import Booking, PlanRun, Session
from ..planning import build_week, therapist_change_rows, track_move_rows
from ..proposal import (
    CadenceGap,
    DiffRow,
    Explanation,
    PlanMetrics,
    PlanProposal,
    ProposedAppointment,
    TherapistChange,
    TrackMove,
)
from .common import book_open_seats, same_org

APPOINTMENT_TITLES = {"individual": "Individual therapy", "family": "Family session",
                      "medication": "Medication review"}

ProgressFn = Callable[..., None]


def _check_week(organization: Any, week_start: date) -> None:
    if week_start.weekday() != 0:
        raise ValidationError({"week_start": "A week starts on a Monday."})
    tz = organization.zone
    if week_bounds(week_start, tz)[0] <= timezone.now():
        raise ValidationError({"week_start": "Only a week that has not started can be planned."})


def plan_week_start(*, actor: User, organization: Any, week_start: date, seed: int = 2026,
                    time_limit_seconds: float = 20.0, request: HttpRequest | None = None) -> Any:
    """Queue the planning of a week; return the Job (the page follows its progress)."""
    from openiop.jobs.services import start_job

    require_perm(actor, Perm.SCHEDULE_PLAN)
    same_org(actor, organization.pk)
    _check_week(organization, week_start)
    return start_job(
        actor=actor, kind="plan_week", label=f"Plan the week of {week_start:%B} {week_start.day}",
        handler="openiop.scheduling.services.plans.plan_week_job",
        params={"organization_id": organization.pk, "week_start": week_start.isoformat(),
                "actor_id": actor.pk, "seed": seed, "time_limit_seconds": time_limit_seconds},
        organization=organization, request=request,
    )


def plan_week_job(*, organization_id: int, week_start: str, actor_id: int, seed: int,
                  time_limit_seconds: float, progress: ProgressFn) -> dict[str, str]:
    """The job: plan the week as the director who asked, reporting progress."""
    from openiop.accounts.models import User
    from openiop.organizations.models import Organization

    run = plan_week(actor=User.objects.get(pk=actor_id),
                    organization=Organization.objects.get(pk=organization_id),
                    week_start=date.fromisoformat(week_start), seed=seed,
                    time_limit_seconds=time_limit_seconds, progress=progress)
    return {"plan": str(run.code)}


def _engine_progress(progress: ProgressFn | None, limit: float) -> Any:
    """Adapt the engine's (phase, best, bound) reports to the job's progress fields."""
    if progress is None:
        return None
    started = clock.monotonic()

    def report(phase: str, best: int | None, bound: int | None) -> None:
        percent = 10 + int(80 * min(1.0, (clock.monotonic() - started) / max(limit, 1.0)))
        fields: dict[str, Any] = {"phase": phase, "percent": percent}
        if best is not None:
            gap = 0.0 if best <= 0 or bound is None else max(0.0, (best - bound) / best)
            fields["best"] = {"objective": best, "bound": bound, "gap": round(gap, 5)}
            fields["message"] = _gap_words(gap, bound is not None)
        progress(**fields)

    return report


def _gap_words(gap: float, proven: bool) -> str:
    if not proven:
        return "A first plan is ready; looking for a better one."
    if gap <= 0:
        return "Best plan so far: the best possible."
    return f"Best plan so far: within {max(1, round(gap * 100 + 0.4999))} % of the best possible."


def plan_week(*, actor: User, organization: Any, week_start: date, seed: int = 2026,
              time_limit_seconds: float = 20.0, request: HttpRequest | None = None,
              progress: ProgressFn | None = None) -> PlanRun:
    """Run the engine for a week that has not started and store the proposal with its diff."""
    require_perm(actor, Perm.SCHEDULE_PLAN)
    same_org(actor, organization.pk)
    _check_week(organization, week_start)
    started = clock.perf_counter()
    if progress is not None:
        progress(phase="Reading the week", percent=2, force=True)
    ctx = build_week(organization, week_start)
    inst = ctx.instance
    settings = engine.SolveSettings(seed=seed, time_limit_seconds=time_limit_seconds,
                                    deterministic_limit=2.0,
                                    progress=_engine_progress(progress, time_limit_seconds))
    plan = engine.solve(inst, settings)
    if progress is not None:
        progress(phase="Checking the plan", percent=92, force=True)
    # The engine's own greedy baseline (the planner never returns worse); run greedy here
    # only when the engine did not report one.
    if plan.baseline:
        greedy_share = float(plan.baseline["share_meeting_minimum"])
        greedy_objective = int(plan.baseline["objective"])
    else:
        greedy = engine.solve_greedy(inst)
        greedy_share, greedy_objective = greedy.share_meeting_minimum(inst), greedy.objective
    problems = engine.check_plan(inst, plan)
    if problems:  # never offer a plan that breaks a hard constraint
        raise InvalidTransition("The planner produced an invalid plan: " + problems[0])
    names = {pid: p.display_name for pid, p in ctx.participants.items()}
    proposal = PlanProposal(
        fingerprint=ctx.fingerprint,
        metrics=PlanMetrics(
            participants=len(inst.participants), status=plan.status, method=plan.method,
            objective=plan.objective, bound=plan.bound, gap=round(plan.gap, 5),
            solve_seconds=round(clock.perf_counter() - started, 2),
            share_meeting_minimum=round(plan.share_meeting_minimum(inst), 4),
            greedy_share_meeting_minimum=round(greedy_share, 4),
            greedy_objective=greedy_objective, appointments=len(plan.appointments),
            due_appointments=sum(len(p.needs) for p in inst.participants),
            cadence_met=plan.cadence_met,
        ),
        # Cadence rules are hard: every due appointment is booked except these, which no plan
        # can book this week (each with the reason and whether the solver proved it).
        cadence_gaps=[CadenceGap(g.participant, names.get(g.participant, ""),
                                 str(ctx.participants[g.participant].code), g.kind, g.rule,
                                 g.reason, g.suggestion, g.proven) for g in plan.cadence_gaps],
        groups={pid: list(sids) for pid, sids in plan.group_bookings.items()},
        appointments=[ProposedAppointment(
            a.participant, a.need, a.kind, a.clinician, a.room, a.site,
            ctx.to_datetime(a.start).isoformat(), ctx.to_datetime(a.end).isoformat(),
        ) for a in plan.appointments],
        minutes=dict(plan.minutes),
        minimum={p.id: p.minimum_minutes for p in inst.participants},
        explanations=[Explanation(e.participant, names.get(e.participant, ""),
                                  str(ctx.participants[e.participant].code), e.minutes_planned,
                                  e.minimum_minutes, e.reason, e.suggestion)
                      for e in plan.explanations],
        diff=_diff(ctx, plan, names),
        therapist_changes=[TherapistChange(**row) for row in therapist_change_rows(ctx, plan)],
        track_moves=[TrackMove(**row) for row in track_move_rows(ctx, plan)],
    )
    with transaction.atomic():
        PlanRun.objects.filter(organization=organization, week_start=week_start,
                               status=PlanRun.Status.PROPOSED).update(status=PlanRun.Status.SUPERSEDED)
        run = PlanRun.objects.create(organization=organization, week_start=week_start, seed=seed,
                                     result=proposal.to_json(), created_by=actor)
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.SCHEDULE_PLAN, object_id=run.code,
                     organization=organization, request=request)
    return run


def _pinned_groups(ctx: Any) -> dict[str, set[str]]:
    """Participant -> pinned group sessions, read in one pass over the week (the diff and
    apply loop over participants: a lookup per participant would read everyone each time)."""
    return {p.id: set(p.pinned_sessions) for p in ctx.instance.participants}


def _by_participant(appointments: Iterable[Any]) -> dict[str, list[Any]]:
    """Appointments (the engine's or a proposal's) per participant, in one pass."""
    out: dict[str, list[Any]] = defaultdict(list)
    for a in appointments:
        out[a.participant].append(a)
    return out


def _diff(ctx: Any, plan: engine.Plan, names: dict[str, str]) -> list[DiffRow]:
    rows = []
    pinned = _pinned_groups(ctx)
    planned = _by_participant(plan.appointments)
    for pid in sorted(ctx.participants, key=lambda p: names.get(p, "")):
        proposed = set(plan.group_bookings.get(pid, ()))
        current = ctx.current_groups.get(pid, set())
        for sid in sorted(proposed - current - pinned.get(pid, set()),
                          key=lambda s: ctx.sessions[s].starts_at):
            s = ctx.sessions[sid]
            rows.append(DiffRow(pid, names[pid], "add", s.title, s.starts_at.isoformat()))
        for sid in sorted(current - proposed, key=lambda s: ctx.sessions[s].starts_at):
            s = ctx.sessions[sid]
            rows.append(DiffRow(pid, names[pid], "remove", s.title, s.starts_at.isoformat()))
        new_appts = {(a.kind, ctx.to_datetime(a.start), a.clinician)
                     for a in planned.get(pid, [])}
        cur_appts = {(s.kind, s.starts_at, str(s.facilitator_id)): s
                     for s in ctx.current_appointments.get(pid, [])}
        for kind, when, cid in sorted(new_appts - set(cur_appts), key=lambda t: t[1]):
            rows.append(DiffRow(pid, names[pid], "add",
                                f"{APPOINTMENT_TITLES.get(kind, kind.title())} with "
                                f"{ctx.staff_names.get(cid, '')}", when.isoformat()))
        for key in sorted(set(cur_appts) - new_appts, key=lambda t: t[1]):
            who = ctx.staff_names.get(key[2])
            rows.append(DiffRow(pid, names[pid], "remove",
                                cur_appts[key].title + (f" with {who}" if who else ""),
                                key[1].isoformat()))
    return rows


def plan_apply(*, actor: User, run: PlanRun, accepted_moves: Iterable[str] = (),
               request: HttpRequest | None = None) -> dict[str, int]:
    """Apply a proposed plan in one transaction: all of it or nothing.

    Pinned bookings and anything with attendance stay; other bookings of the week are
    replaced by the plan. Refused when the week changed since the plan was made, and when
    the plan was already applied (applying twice changes nothing). The counts returned are
    the rows actually changed, which are the diff the director approved;
    `therapist_changes` counts the added appointments that are rows of the approved
    "therapist changes" section (booked with someone other than the usual clinician).

    Track moves are proposals: `accepted_moves` names the participants (engine ids, as in
    `TrackMove.participant`) whose move the director accepted; nobody else's enrollment
    changes. An accepted move ends the enrollment the day before the week and starts one in
    the other track (audited, like a move on the Schedule tab). A declined move books none
    of the other track's sessions: the person stays in their track and gets the seats it has
    left after the plan (their appointments stand as planned). `track_moves` and
    `track_moves_declined` count them; `declined_sessions_dropped` the other track's
    sessions not booked, `declined_rebooked` the own-track seats booked instead.
    """
    require_perm(actor, Perm.SCHEDULE_PLAN)
    same_org(actor, run.organization_id)
    counts = {"group_added": 0, "group_removed": 0, "appointments_added": 0,
              "appointments_removed": 0, "therapist_changes": 0, "track_moves": 0,
              "track_moves_declined": 0, "declined_sessions_dropped": 0, "declined_rebooked": 0}
    accepted = set(accepted_moves)
    with transaction.atomic():
        # Lock the run: two clicks (or two nodes) applying the same plan apply it once.
        locked = PlanRun.objects.select_for_update().get(pk=run.pk)
        if locked.status != PlanRun.Status.PROPOSED:
            raise InvalidTransition("Only the latest proposed plan can be applied"
                                    + (" (this one is already applied)."
                                       if locked.status == PlanRun.Status.APPLIED else "."))
        ctx = build_week(run.organization, run.week_start)
        proposal = PlanProposal.from_json(locked.result)
        if ctx.fingerprint != proposal.fingerprint:
            raise Conflict("The week's bookings changed since this plan was made; plan again.")
        moves = {m.participant: m for m in proposal.track_moves}
        if accepted - moves.keys():
            raise ValidationError({"moves": "Only the track moves this plan proposes can be accepted."})
        for pid, m in moves.items():
            enr = ctx.enrollments.get(pid)
            if enr is None or str(enr.code) != m.enrollment:
                raise Conflict(f"{m.name}'s track membership changed since this plan was made; "
                               "plan again.")
        declined = {pid: m for pid, m in moves.items() if pid not in accepted}
        _apply(ctx, proposal, run, counts, declined)
        _seat_in_own_track(ctx, sorted(declined), counts)
        for pid in sorted(accepted):
            _move_enrollment(actor, ctx, moves[pid], request)
        counts["track_moves"] = len(accepted)
        counts["track_moves_declined"] = len(declined)
        _refuse_overlaps(ctx)
        run.status = PlanRun.Status.APPLIED
        run.applied_by = actor
        run.applied_at = timezone.now()
        run.save(update_fields=["status", "applied_by", "applied_at"])
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.SCHEDULE_PLAN, object_id=run.code,
                     organization=run.organization, request=request,
                     reason=", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return counts


def _apply(ctx: Any, proposal: PlanProposal, run: PlanRun, counts: dict[str, int],
           declined: dict[str, TrackMove]) -> None:
    from openiop.accounts.models import User
    from openiop.organizations.models import Room

    rooms = {str(r.pk): r for r in Room.objects.filter(site__organization=run.organization)}
    staff = {str(u.pk): u for u in User.objects.filter(staff_profile__organization=run.organization)}
    approved_changes = {(t.participant, t.when) for t in proposal.therapist_changes}
    pinned = _pinned_groups(ctx)
    proposed_appointments = _by_participant(proposal.appointments)
    for pid, person in ctx.participants.items():
        proposed = set(proposal.groups.get(pid, []))
        if pid in declined:  # the move was declined: nothing in the other track
            other = {sid for sid in proposed if _track_code(ctx, sid) == declined[pid].to_code}
            proposed -= other
            counts["declined_sessions_dropped"] += len(other)
        current = ctx.current_groups.get(pid, set())
        # Pinned (or attended) bookings are already there and not part of the diff.
        for sid in proposed - current - pinned.get(pid, set()):
            b, created = Booking.objects.get_or_create(session=ctx.sessions[sid], participant=person)
            if not created and b.status != Booking.Status.BOOKED:
                b.status = Booking.Status.BOOKED
                b.save(update_fields=["status"])
                created = True
            counts["group_added"] += int(created)
        for sid in current - proposed:
            counts["group_removed"] += Booking.objects.filter(
                session=ctx.sessions[sid], participant=person, pinned=False,
                attendance__isnull=True, status=Booking.Status.BOOKED,
            ).update(status=Booking.Status.CANCELLED)
        wanted = {(a.kind, a.starts_at, a.clinician): a
                  for a in proposed_appointments.get(pid, [])}
        existing = {(s.kind, s.starts_at, str(s.facilitator_id)): s
                    for s in ctx.current_appointments.get(pid, [])}
        for key, s in existing.items():
            if key not in wanted:
                s.status = Session.Status.CANCELLED
                s.cancel_reason = "Replaced by the weekly plan"
                s.save(update_fields=["status", "cancel_reason"])
                s.bookings.update(status=Booking.Status.CANCELLED)
                counts["appointments_removed"] += 1
        episode = ctx.episodes[pid]
        for key, a in wanted.items():
            if key in existing:
                continue
            tpl = ctx.templates.get((episode.program_id, a.kind))
            session = Session.objects.create(
                program=episode.program, kind=a.kind,
                title=tpl.title if tpl else APPOINTMENT_TITLES[a.kind],
                starts_at=a.starts_at, ends_at=a.ends_at,
                site_id=int(a.site), room=rooms.get(a.room or ""), facilitator=staff.get(a.clinician),
                counts_toward_hours=tpl.counts_toward_hours if tpl else a.kind != "medication",
                capacity=6 if a.kind == "family" else 1, template=tpl,
            )
            Booking.objects.create(session=session, participant=person)
            counts["appointments_added"] += 1
            counts["therapist_changes"] += (pid, a.start) in approved_changes


def _track_code(ctx: Any, sid: str) -> str:
    track = ctx.sessions[sid].track
    return str(track.code) if track is not None else ""


def _seat_in_own_track(ctx: Any, pids: list[str], counts: dict[str, int]) -> None:
    """After the plan is written, give each person whose move was declined the sessions of
    their own track that still have a seat, that they are free for (availability) and that
    do not overlap what they are booked for. Reads the week's seats and bookings once."""
    if not pids:
        return
    start, end = week_bounds(ctx.week_start, ctx.tz)
    own = {ctx.enrollments[pid].track_id for pid in pids}
    sessions = sorted((s for s in ctx.sessions.values() if s.track_id in own),
                      key=lambda s: s.starts_at)
    taken: dict[int, int] = defaultdict(int)
    for sid in Booking.objects.filter(session__in=sessions, status=Booking.Status.BOOKED
                                      ).values_list("session_id", flat=True):
        taken[sid] += 1
    held: dict[int, list[tuple[datetime, datetime, int]]] = defaultdict(list)
    for person_id, s, e, sid in (
        Booking.objects.filter(participant_id__in=[int(p) for p in pids],
                               status=Booking.Status.BOOKED, session__starts_at__gte=start,
                               session__starts_at__lt=end)
        .exclude(session__status=Session.Status.CANCELLED)
        .values_list("participant_id", "session__starts_at", "session__ends_at", "session_id")
    ):
        held[person_id].append((s, e, sid))
    people = {p.id: p for p in ctx.instance.participants}
    for pid in pids:
        person = ctx.participants[pid]
        track_id = ctx.enrollments[pid].track_id
        mine = held[person.pk]
        for s in sessions:
            if s.track_id != track_id or taken[s.pk] >= s.capacity:
                continue
            if any(sid == s.pk or (a < s.ends_at and s.starts_at < b) for a, b, sid in mine):
                continue
            lo, hi = ctx.to_minutes(s.starts_at), ctx.to_minutes(s.ends_at)
            if any(w.overlaps(lo, hi) for w in people[pid].busy):
                continue
            b, created = Booking.objects.get_or_create(session=s, participant=person)
            if not created:
                b.status = Booking.Status.BOOKED
                b.save(update_fields=["status"])
            taken[s.pk] += 1
            mine.append((s.starts_at, s.ends_at, s.pk))
            counts["declined_rebooked"] += 1


def _move_enrollment(actor: User, ctx: Any, move: TrackMove,
                     request: HttpRequest | None) -> None:
    """An accepted track move: the enrollment ends the day before the planned week and one
    in the other track starts with it (the old track becomes an acceptable other track).
    The planned week is as the plan booked it; later bookings of the old track without
    attendance are cancelled and the new track's later sessions with a seat are booked,
    as a move on the Schedule tab does."""
    from openiop.care.models import Enrollment

    old = ctx.enrollments[move.participant]
    person = ctx.participants[move.participant]
    to_track = ctx.tracks[move.to_code]
    _, week_end = week_bounds(ctx.week_start, ctx.tz)
    alternatives = [t for t in old.acceptable_tracks.all() if t.pk != to_track.pk]
    old.end_date = max(ctx.week_start - timedelta(days=1), old.start_date)
    old.status = Enrollment.Status.ENDED
    old.save(update_fields=["end_date", "status"])
    new = Enrollment.objects.create(episode=old.episode, track=to_track, start_date=ctx.week_start)
    new.acceptable_tracks.set([*alternatives, old.track] if old.track.is_active else alternatives)
    cancelled = (Booking.objects.filter(participant=person, session__track=old.track,
                                        session__starts_at__gte=week_end,
                                        status=Booking.Status.BOOKED, attendance__isnull=True)
                 .update(status=Booking.Status.CANCELLED))
    booked = book_open_seats(person, to_track, week_end)
    why = f"track move accepted with the plan for the week of {ctx.week_start:%Y-%m-%d}"
    audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.ENROLLMENT,
                 object_id=old.code, participant=person, request=request,
                 reason=f"left track ({why}: {move.from_track} to {move.to_track}); "
                        f"{cancelled} later bookings cancelled")
    audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.ENROLLMENT,
                 object_id=new.code, participant=person, request=request,
                 reason=f"joined track ({why}: {move.reason}); {booked} later bookings")


def _refuse_overlaps(ctx: Any) -> None:
    """Raise (and so roll back) when any participant holds two overlapping bookings."""
    start, end = week_bounds(ctx.week_start, ctx.tz)
    rows = (Booking.objects.filter(participant_id__in=[p.pk for p in ctx.participants.values()],
                                   status=Booking.Status.BOOKED, session__starts_at__gte=start,
                                   session__starts_at__lt=end)
            .exclude(session__status=Session.Status.CANCELLED)
            .values_list("participant_id", "session__starts_at", "session__ends_at", "session__title")
            .order_by("participant_id", "session__starts_at"))
    last: dict[int, tuple[datetime, str]] = {}
    for pid, s, e, title in rows:
        prev = last.get(pid)
        if prev and s < prev[0]:
            name = ctx.participants[str(pid)].display_name
            raise ValidationError({"plan": f"Overlapping bookings for {name}: {prev[1]} and {title}. "
                                           "Nothing was applied."})
        if prev is None or e > prev[0]:
            last[pid] = (e, title)

