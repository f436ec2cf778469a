"""Demo data for the portal: secure message threads and notes shared with families."""

from __future__ import annotations

from datetime import time, timedelta

from openiop.care.models import EpisodeOfCare
from openiop.demo.generator import DemoContext
from openiop.participants.models import Consent

from .models import Message, SharedNote

OPENERS = [
    "Hi, I have a shift change next week. Can I switch to the evening track on Thursday?",
    "I used the breathing exercise before my interview and it helped. Thank you.",
    "Is group still on for Monday with the holiday?",
    "I had a rough weekend but I didn't use. Can we talk about it Tuesday?",
    "Where do I find the handout from today's group?",
]
REPLIES = [
    "Thanks for letting us know. I've asked the front desk to look at the Thursday evening group.",
    "That's great to hear. Keep practising; we'll add it to your plan.",
    "Yes, group runs as usual on Monday.",
    "Thank you for telling me. Let's make it the first thing we talk about on Tuesday.",
    "It's in the portal: open your week and tap the group's topic.",
]
FAMILY_NOTES = [
    ("Family session plan", "In the next family sessions we will practise a calm way to talk about school "
     "and evenings at home. Please bring one example of a recent disagreement."),
    ("Reading for this week", "The family-education module on supporting without taking over is now in your "
     "portal. It is short, and we will discuss it together."),
]


def build(ctx: DemoContext) -> None:
    shared = rng = ctx.rng
    now = min(ctx.now, ctx.at(ctx.today, time(23)))
    demo_person = ctx.extra.get("demo_participant")
    messages: list[Message] = []
    active = [ep for ep in ctx.episodes if ep.status == EpisodeOfCare.Status.ACTIVE]
    for ep in active:
        rng = ctx.rng_for(ep.participant_id, default=shared)  # a featured persona's own
        person = ep.participant
        is_demo = demo_person is not None and person.pk == demo_person.pk
        if not is_demo and rng.random() > 0.3:
            continue
        therapist_id = ep.primary_therapist_id
        sent = now - timedelta(days=rng.uniform(1, 12))
        for k in range(3 if is_demo else rng.randint(1, 2)):
            i = rng.randrange(len(OPENERS))
            messages.append(Message(participant=person, sender_id=person.user_id, from_participant=True,
                                    body=OPENERS[i], sent_at=sent, read_at=sent + timedelta(hours=2)))
            reply_at = sent + timedelta(hours=rng.randint(2, 20))
            last = k == (2 if is_demo else 0)
            messages.append(Message(participant=person, sender_id=therapist_id, from_participant=False,
                                    body=REPLIES[i], sent_at=reply_at,
                                    read_at=None if last else reply_at + timedelta(hours=3)))
            sent = reply_at + timedelta(days=rng.uniform(0.5, 2))
        if is_demo:
            messages.append(Message(
                participant=person, sender_id=therapist_id, from_participant=False, sent_at=now - timedelta(hours=3),
                body="Reminder: please fill in this week's check-in before Thursday's group.",
            ))
    Message.objects.bulk_create(messages, batch_size=2000)

    notes: list[SharedNote] = []
    consents = Consent.objects.filter(
        participant__organization=ctx.organization, kind=Consent.Kind.FAMILY_ACCESS, revoked_at__isnull=True
    ).order_by("participant_id").values_list("participant_id", flat=True)
    lmft = ctx.staff["lmft"]
    for participant_id in consents:
        for k, (title, body) in enumerate(FAMILY_NOTES):
            notes.append(SharedNote(participant_id=participant_id, title=title, body=body, shared_by=lmft,
                                    shared_at=now - timedelta(days=8 - 5 * k)))
    SharedNote.objects.bulk_create(notes)
    ctx.progress(f"{len(messages)} portal messages, {len(notes)} notes shared with families")
    if demo_person is not None:
        _demo_safety_plan(ctx, demo_person)


def _demo_safety_plan(ctx: DemoContext, person: object) -> None:
    """The demo participant's safety plan, unless the clinical demo step wrote one."""
    from openiop.clinical.selectors import current_safety_plan
    from openiop.clinical.services.safety import safety_plan_save

    if current_safety_plan(person) is not None:
        return
    episode = next(ep for ep in ctx.episodes if ep.participant_id == person.pk and ep.status == EpisodeOfCare.Status.ACTIVE)
    safety_plan_save(
        actor=episode.primary_therapist, participant=person, based_on_version=None,
        data={
            "warning_signs": "Not sleeping for two nights\nCancelling plans and staying in my room\n"
                             "Thinking 'nothing is going to change'",
            "internal_coping": "Walk the dog around the park\nCold water on my face, paced breathing\n"
                               "Play guitar for 20 minutes",
            "social_distractions": "Coffee shop on High Street\nCall my cousin to talk about anything",
            "help_contacts": "My sister Ana (614) 555-0188\nMy friend Rob (614) 555-0142",
            "professional_contacts": "My therapist at Riverbend (614) 555-0100 (weekdays)\n"
                                     "County crisis team (614) 555-0999",
            "environment_safety": "Sister keeps my extra medication; no alcohol in the house",
            "reasons_for_living": "My daughter; finishing my degree; the dog",
        },
    )
    ctx.progress("safety plan for the demo participant")
