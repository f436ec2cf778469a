"""PDF versions of notes, treatment plans and safety plans (reportlab).

All user text goes through `_p`, which escapes it: reportlab's Paragraph reads a small
markup language, and a note may legitimately contain "<" or pasted HTML.

Text is set in DejaVu Sans, shipped in data/fonts with its license, so accented Latin,
Greek, Cyrillic and the other scripts it covers print as typed. A character no shipped
face covers (most emoji) prints as its Unicode name in brackets, e.g. "[grinning face]",
never as a black box (docs/pdf-fonts.md).
"""

from __future__ import annotations

import functools
import io
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.fonts import addMapping
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import HRFlowable, Paragraph, SimpleDocTemplate, Spacer, Table

from .formats import ENTRY_FIELDS, sections_for
from .text import quoted

FONT_DIR = Path(__file__).resolve().parent / "data" / "fonts"
FONT, FONT_BOLD, FONT_ITALIC = "DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique"
# Invisible joiners and selectors of emoji sequences: dropped along with the emoji.
_SILENT = {0x200D, 0xFE0E, 0xFE0F, 0x20E3, *range(0x1F3FB, 0x1F400)}


@functools.cache
def _covered() -> frozenset[int]:
    """Register the shipped faces once; the code points both regular and bold print."""
    for name, file in ((FONT, "DejaVuSans.ttf"), (FONT_BOLD, "DejaVuSans-Bold.ttf"),
                       (FONT_ITALIC, "DejaVuSans-Oblique.ttf")):
        pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / file)))
    for bold, italic, name in ((0, 0, FONT), (1, 0, FONT_BOLD), (0, 1, FONT_ITALIC),
                               (1, 1, FONT_BOLD)):
        addMapping(FONT, bold, italic, name)
    regular = pdfmetrics.getFont(FONT).face.charToGlyph
    bold = pdfmetrics.getFont(FONT_BOLD).face.charToGlyph
    # reportlab's font subsets address the Basic Multilingual Plane only: a glyph above
    # U+FFFF (DejaVu has some emoticons there) would print as the wrong character.
    return frozenset(c for c in regular if c <= 0xFFFF) & frozenset(bold)


def printable(text: str) -> str:
    """The text with every character the PDF font lacks replaced by its name in brackets
    (emoji joiners and skin-tone modifiers dropped), so nothing prints as a black box."""
    covered = _covered()
    out = []
    for ch in text:
        code = ord(ch)
        if code in _SILENT:
            continue
        if code in covered or ch in "\n\t":
            out.append(ch)
        else:
            out.append(f"[{unicodedata.name(ch, f'U+{code:04X}').lower()}]")
    return "".join(out)


def _styles() -> dict[str, ParagraphStyle]:
    _covered()
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("t", parent=base["Title"], fontSize=16, spaceAfter=6,
                                fontName=FONT_BOLD),
        "h2": ParagraphStyle("h2", parent=base["Heading2"], fontSize=12, spaceBefore=8,
                             spaceAfter=3, textColor=colors.HexColor("#0f5e73"),
                             fontName=FONT_BOLD),
        "h3": ParagraphStyle("h3", parent=base["Heading3"], fontSize=10.5, spaceBefore=4,
                             spaceAfter=2, fontName=FONT_BOLD),
        "body": ParagraphStyle("b", parent=base["BodyText"], fontSize=10, leading=13.5,
                               fontName=FONT),
        "small": ParagraphStyle("s", parent=base["BodyText"], fontSize=8, leading=10,
                                textColor=colors.HexColor("#44555f"), fontName=FONT),
    }


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(printable(str(text or ""))).replace("\n", "<br/>"), style)


def _build(title: str, story: list[Any], *, notice: str = "",
           on_page: Callable[[int], None] | None = None) -> bytes:
    """The PDF; `notice` is the 42 CFR 2.32 statement that
    participants.disclosure.disclosure decided goes with it ("" when none); `on_page(n)`
    is told of each page (a background job's progress)."""
    buffer = io.BytesIO()
    styles = _styles()
    printed = timezone.localtime().strftime("%Y-%m-%d %H:%M %Z")

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(colors.HexColor("#44555f"))
        canvas.drawString(0.75 * inch, 0.5 * inch,
                          printable(f"OpenIOP · {title} · printed {printed} · page "
                                    f"{doc.page} · Confidential health information"))
        canvas.restoreState()
        if on_page is not None:
            on_page(doc.page)

    doc = SimpleDocTemplate(buffer, pagesize=LETTER, title=title, author="OpenIOP",
                            leftMargin=0.75 * inch, rightMargin=0.75 * inch,
                            topMargin=0.7 * inch, bottomMargin=0.8 * inch)
    if notice:
        story = [*story, Spacer(1, 10), HRFlowable(width="100%"), _p(notice, styles["small"])]
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def participant_identity(p: Any) -> str:
    """Who the page is about, as includes/_participant_banner.html shows it: preferred and
    legal name, MRN, date of birth and age."""
    legal = f" (legal name {p.legal_name})" if p.preferred_name else ""
    return (f"{p.display_name}{legal}, MRN {p.mrn}, born {p.date_of_birth:%b %-d, %Y}, "
            f"age {p.age}")


def note_pdf(note: Any, *, entry_participant_ids: set[int] | None = None,
             integrity_warning: str = "", notice: str = "",
             on_page: Callable[[int], None] | None = None) -> bytes:
    """The note as a PDF; group entries limited to `entry_participant_ids` when given."""
    s = _styles()
    session = note.session
    story: list[Any] = [_p(f"{note.get_kind_display()} note", s["title"])]
    if integrity_warning:
        story.append(_p(integrity_warning, s["h2"]))
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
    return _build("Clinical note", story, notice=notice, on_page=on_page)


def plan_pdf(plan: Any, snapshot: dict[str, Any], revision: int,
             signature_record: dict[str, Any], *, notice: str = "",
             on_page: Callable[[int], None] | None = None) -> bytes:
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
                  _p(quoted(snapshot["participant_statement"]), s["body"])]
    for n, problem in enumerate(snapshot["problems"], start=1):
        story.append(_p(f"Problem {n}: {problem['text']}", s["h2"]))
        if problem.get("participant_words"):
            story.append(_p(f"In their words: {quoted(problem['participant_words'])}",
                            s["body"]))
        for goal in problem["goals"]:
            story.append(_p(f"Goal: {goal['text']}", s["h3"]))
            if goal.get("participant_words"):
                story.append(_p(f"In their words: {quoted(goal['participant_words'])}",
                                s["body"]))
            for obj in goal["objectives"]:
                story.append(_p(f"Objective (target {obj['target_date']}, {obj['status']}): "
                                f"{obj['text']}", s["body"]))
                for i in obj["interventions"]:
                    story.append(_p(f"    • {i['modality']}, {i['frequency']}, responsible: "
                                    f"{i['responsible']}. {i['description']}", s["body"]))
    story += _signatures(signature_record, s)
    return _build("Treatment plan", story, notice=notice, on_page=on_page)


def _signatures(record: dict[str, Any], s: dict[str, ParagraphStyle]) -> list[Any]:
    """The signature record (what the chart holds) and lines to sign on paper."""
    out: list[Any] = [Spacer(1, 8), HRFlowable(width="100%"), _p("Signatures", s["h2"])]
    out += [_p(line, s["body"]) for line in record["lines"]]
    rows = [["", ""], [_p("Participant signature", s["small"]), _p("Date", s["small"])],
            ["", ""], [_p(f"Clinician signature: {record['clinician']}", s["small"]),
                       _p("Date", s["small"])]]
    table = Table(rows, colWidths=[4.6 * inch, 2.2 * inch], rowHeights=[28, 14, 28, 14])
    table.setStyle([("LINEABOVE", (0, 1), (0, 1), 0.8, colors.black),
                    ("LINEABOVE", (1, 1), (1, 1), 0.8, colors.black),
                    ("LINEABOVE", (0, 3), (0, 3), 0.8, colors.black),
                    ("LINEABOVE", (1, 3), (1, 3), 0.8, colors.black),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0), ("VALIGN", (0, 0), (-1, -1), "TOP")])
    return [*out, Spacer(1, 6), table]


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
    # The participant's own copy: a disclosure to the patient needs no consent or notice
    # (42 CFR 2.23).
    return _build("Safety plan", story)


def print_release(request: Any, participants: list[Any], record: Any, *, kind: str) -> str:
    """Decide a print or PDF of `record` about `participants` (participants.disclosure):
    a copy for the program's own use, or, with `release_to`/`recipient`/`purpose` in the
    query, a release to that recipient. Returns the 2.32 notice to print ("" for none);
    raises ValidationError for a malformed request and Http404 when it may not go (as if
    there were nothing to print)."""
    from django.http import Http404

    from openiop.audit.vocabulary import ObjectType
    from openiop.participants import disclosure as dis

    recipient, purpose = dis.party_from_params(request.GET, request.user)
    notice = ""
    for person in participants:
        decision = dis.disclosure(
            request.user, person, [dis.Record(kind, record)], channel=dis.Channel.PRINT,
            recipient=recipient, purpose=purpose, request=request,
            object_type=ObjectType(f"print.{kind}"), object_id=getattr(record, "code", ""),
            audit=not recipient.internal)
        if not decision.released:
            raise Http404
        notice = notice or decision.statement  # 2.32(a) notice and 2.32(b) scope
    return notice
