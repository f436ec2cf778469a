"""Note templates as data: the sections of each note format (pure Python, no database).

DAP, BIRP and SOAP are the common structured formats for behavioral-health progress
notes; programs choose one (care.Program.note_format) or a free narrative.
Sources: SOAP sections per StatPearls "SOAP Notes" (https://www.ncbi.nlm.nih.gov/books/NBK482263/);
DAP and BIRP section names as listed in care.models.NoteFormat (the program setting; common
practice, not a standard),
kept here as data so a program can adapt the wording without touching the workflow.
"""

from __future__ import annotations

from dataclasses import dataclass

# Text limits: generous enough for a long note, bounded so one paste cannot bloat a row.
SECTION_MAX_CHARS = 20_000
ENTRY_MAX_CHARS = 5_000


@dataclass(frozen=True)
class Section:
    key: str
    label: str
    help: str
    required: bool = True


FORMAT_SECTIONS: dict[str, tuple[Section, ...]] = {
    "DAP": (
        Section("data", "Data", "What was observed and said: facts, quotes, measures."),
        Section("assessment", "Assessment", "Your clinical interpretation and progress."),
        Section("plan", "Plan", "Next steps, homework, next session."),
    ),
    "BIRP": (
        Section("behavior", "Behavior", "Presentation, mood, what the participant reported."),
        Section("intervention", "Intervention", "What you did: modality and techniques."),
        Section("response", "Response", "How the participant responded to the intervention."),
        Section("plan", "Plan", "Next steps, homework, next session."),
    ),
    "SOAP": (
        Section("subjective", "Subjective", "What the participant reports, in their words."),
        Section("objective", "Objective", "Observations, mental status, measures."),
        Section("assessment", "Assessment", "Clinical impression and progress."),
        Section("plan", "Plan", "Next steps, homework, next session."),
    ),
    "NARRATIVE": (
        Section("narrative", "Narrative", "The session in your own words."),
    ),
}

# The shared part of a group note: written once, copied into each attendee's chart.
GROUP_SECTIONS: tuple[Section, ...] = (
    Section("topic", "Topic", "The session's topic or theme."),
    Section("interventions", "Interventions", "Modalities and techniques used with the group."),
    Section("curriculum_module", "Curriculum module", "Module or lesson covered, if any.",
            required=False),
    Section("group_summary", "Group process", "How the group worked together (no names).",
            required=False),
)

# One short individual entry per attendee.
ENTRY_FIELDS: tuple[Section, ...] = (
    Section("participation", "Participation", "How they took part."),
    Section("response", "Response to the intervention", "What they said or did in response."),
    Section("progress", "Progress toward the objective", "Progress on their treatment-plan "
            "objective."),
    Section("plan", "Plan", "Their next step."),
)

# Each entry can also name the treatment-plan objective it addresses (GroupNoteEntry.objective).
OBJECTIVE_LABEL = "Plan objective this addresses"


def sections_for(kind: str, note_format: str) -> tuple[Section, ...]:
    """The sections of a note of this kind in this program's format."""
    if kind == "group":
        return GROUP_SECTIONS
    return FORMAT_SECTIONS.get(note_format, FORMAT_SECTIONS["NARRATIVE"])


def missing_required(sections: tuple[Section, ...], values: dict[str, str]) -> list[Section]:
    """Required sections that are empty or whitespace only."""
    return [s for s in sections if s.required and not (values.get(s.key) or "").strip()]
