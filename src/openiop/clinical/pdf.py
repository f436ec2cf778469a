"""PDF versions of notes, treatment plans and safety plans (reportlab).

All user text goes through `_p`, which escapes it: reportlab's Paragraph reads a small
markup language, and a note may legitimately contain "<" or pasted HTML.
"""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import HRFlowable, Paragraph, SimpleDocTemplate, Spacer

from .formats import ENTRY_FIELDS, sections_for

# 42 CFR 2.32 notice to accompany a disclosure of substance-use-disorder records.
# Wording of the pre-2024 short statement (https://www.law.cornell.edu/cfr/text/42/2.32);
# The 2024 final rule (89 FR 12472) rewrote 2.32; until its wording is checked against the
# current eCFR text, the notice is kept in this one place so it can be replaced at once.
PART2_NOTICE = (
    "This record contains information protected by federal confidentiality rules "
    "(42 CFR part 2). The federal rules prohibit you from making any further disclosure of "
    "information in this record that identifies a patient as having or having had a "
    "substance use disorder either directly, by reference to publicly available information, "
    "or through verification of such identification by another person unless further "
    "disclosure is expressly permitted by the written consent of the individual whose "
    "information is being disclosed or as otherwise permitted by 42 CFR part 2."
)


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("t", parent=base["Title"], fontSize=16, spaceAfter=6),
        "h2": ParagraphStyle("h2", parent=base["Heading2"], fontSize=12, spaceBefore=8,
                             spaceAfter=3, textColor=colors.HexColor("#0f5e73")),
        "h3": ParagraphStyle("h3", parent=base["Heading3"], fontSize=10.5, spaceBefore=4,
                             spaceAfter=2),
        "body": ParagraphStyle("b", parent=base["BodyText"], fontSize=10, leading=13.5),
        "small": ParagraphStyle("s", parent=base["BodyText"], fontSize=8, leading=10,
                                textColor=colors.HexColor("#44555f")),
    }


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text or "")).replace("\n", "<br/>"), style)


def _build(title: str, story: list[Any], *, part2: bool) -> bytes:
    buffer = io.BytesIO()
    styles = _styles()
    printed = timezone.localtime().strftime("%Y-%m-%d %H:%M %Z")

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7.5)
        canvas.setFillColor(colors.HexColor("#44555f"))
        canvas.drawString(0.75 * inch, 0.5 * inch,
                          f"OpenIOP · {title} · printed {printed} · page {doc.page} · "
                          "Confidential health information")
        canvas.restoreState()

    doc = SimpleDocTemplate(buffer, pagesize=LETTER, title=title, author="OpenIOP",
                            leftMargin=0.75 * inch, rightMargin=0.75 * inch,
                            topMargin=0.7 * inch, bottomMargin=0.8 * inch)
    if part2:
        story = [*story, Spacer(1, 10), HRFlowable(width="100%"), _p(PART2_NOTICE,
                                                                        styles["small"])]
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def is_part2(program: Any) -> bool:
    return getattr(program, "focus", "") in ("su", "co")


def participant_identity(p: Any) -> str:
    """Who the page is about, as includes/_participant_banner.html shows it: preferred and
    legal name, MRN, date of birth and age."""
    legal = f" (legal name {p.legal_name})" if p.preferred_name else ""
    return (f"{p.display_name}{legal}, MRN {p.mrn}, born {p.date_of_birth:%b %-d, %Y}, "
            f"age {p.age}")


def note_pdf(note: Any, *, entry_participant_ids: set[int] | None = None) -> bytes:
    """The note as a PDF; group entries limited to `entry_participant_ids` when given."""
    s = _styles()
    session = note.session
    story: list[Any] = [_p(f"{note.get_kind_display()} note", s["title"])]
    facts = [f"Program: {note.program.name}", f"Format: {note.note_format}"]
    if session is not None:
        facts.append(f"Session: {session.title}, "
                     f"{timezone.localtime(session.starts_at):%Y-%m-%d %H:%M}")
    if note.participant is not None:
        facts.append(f"Participant: {participant_identity(note.participant)}")
    facts.append(f"Status: {note.get_status_display()}")
    story.append(_p(" · ".join(facts), s["small"]))
    for section in sections_for(note.kind, note.note_format):
        value = (note.sections or {}).get(section.key, "")
        if value or section.required:
            story += [_p(section.label, s["h2"]), _p(value or "—", s["body"])]
    entries = list(note.entries.all())
    if entry_participant_ids is not None:
        entries = [e for e in entries if e.participant_id in entry_participant_ids]
    for entry in entries:
        story.append(_p(participant_identity(entry.participant), s["h2"]))
        for f in ENTRY_FIELDS:
            story += [_p(f.label, s["h3"]), _p(getattr(entry, f.key) or "—", s["body"])]
        if entry.objective_id:
            story += [_p("Plan objective addressed", s["h3"]),
                      _p(entry.objective.text, s["body"])]
    if note.family_members.exists():
        story.append(_p("Family members present: " + ", ".join(
            str(p) for p in note.family_members.all()), s["body"]))
    if note.signed_at:
        story += [Spacer(1, 8), HRFlowable(width="100%"),
                  _p(f"Electronically signed by {note.signed_as} on "
                     f"{timezone.localtime(note.signed_at):%Y-%m-%d %H:%M}", s["body"])]
    if note.cosigned_at:
        story.append(_p(f"Co-signed by {note.cosigned_as} on "
                        f"{timezone.localtime(note.cosigned_at):%Y-%m-%d %H:%M}", s["body"]))
    if note.warning_override:
        story.append(_p(f"Signed despite warnings: {note.warning_override}", s["small"]))
    for addendum in note.addenda.all():
        # One attendee's copy carries whole-note addenda and that attendee's own only.
        if (addendum.participant_id is not None and entry_participant_ids is not None
                and addendum.participant_id not in entry_participant_ids):
            continue
        story += [_p(f"Addendum, {timezone.localtime(addendum.created_at):%Y-%m-%d %H:%M}, "
                     f"{addendum.signed_as} ({addendum.reason})", s["h3"]),
                  _p(addendum.text, s["body"])]
    return _build("Clinical note", story, part2=is_part2(note.program))


def plan_pdf(plan: Any, snapshot: dict[str, Any], revision: int) -> bytes:
    s = _styles()
    p = plan.participant
    story: list[Any] = [
        _p("Treatment plan", s["title"]),
        _p(f"{participant_identity(p)} · {plan.program.name} · revision {revision} · "
           f"started {snapshot['started_on']} · next review due {snapshot['next_review_due']}",
           s["small"]),
    ]
    if snapshot.get("participant_statement"):
        story += [_p("In the participant's words", s["h2"]),
                  _p(f"“{snapshot['participant_statement']}”", s["body"])]
    for n, problem in enumerate(snapshot["problems"], start=1):
        story.append(_p(f"Problem {n}: {problem['text']}", s["h2"]))
        if problem.get("participant_words"):
            story.append(_p(f"In their words: “{problem['participant_words']}”", s["body"]))
        for goal in problem["goals"]:
            story.append(_p(f"Goal: {goal['text']}", s["h3"]))
            if goal.get("participant_words"):
                story.append(_p(f"In their words: “{goal['participant_words']}”", s["body"]))
            for obj in goal["objectives"]:
                story.append(_p(f"Objective (target {obj['target_date']}, {obj['status']}): "
                                f"{obj['text']}", s["body"]))
                for i in obj["interventions"]:
                    story.append(_p(f"    • {i['modality']}, {i['frequency']}, responsible: "
                                    f"{i['responsible']}. {i['description']}", s["body"]))
    if plan.acknowledged_revision:
        story += [Spacer(1, 8), _p(
            f"Participant acknowledged revision {plan.acknowledged_revision} on "
            f"{timezone.localtime(plan.acknowledged_at):%Y-%m-%d} "
            f"({plan.acknowledgment_method}).", s["body"])]
    return _build("Treatment plan", story, part2=is_part2(plan.program))


def safety_plan_pdf(plan: Any) -> bytes:
    s = _styles()
    p = plan.participant
    story: list[Any] = [
        _p("My safety plan", s["title"]),
        _p(f"{participant_identity(p)} · version {plan.version} · "
           f"{timezone.localtime(plan.created_at):%Y-%m-%d}", s["small"]),
        _p("If you are in danger now, call 911. For the 988 Suicide & Crisis Lifeline, call "
           "or text 988.", s["body"]),
    ]
    for heading, lines in plan.steps():
        story.append(_p(heading, s["h2"]))
        for line in lines or ["—"]:
            story.append(_p(f"• {line}", s["body"]))
    story.append(_p("Safety Planning Intervention structure: Stanley & Brown (2012).",
                    s["small"]))
    return _build("Safety plan", story, part2=False)
