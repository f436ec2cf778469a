"""Verifying the audit trail: every chain link, then the chains against the latest
signed checkpoint (see `checkpoints.py`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .chain import GENESIS_HASH, chain_of, same
from .checkpoints import Checkpoint, latest_checkpoint
from .models import AccessEvent


@dataclass(frozen=True)
class ChainProblem:
    seq: int | None  # the installation-wide number of the event where it shows, if any
    message: str
    chain: int = 0


@dataclass
class _ChainState:
    expected_seq: int = 1
    expected_prev: str = GENESIS_HASH
    count: int = 0
    head_seq: int = 0
    broken: bool = False
    hash_at_checkpoint: str | None = None
    count_to_checkpoint: int = 0


@dataclass
class VerifyReport:
    events: int = 0
    problems: list[ChainProblem] = field(default_factory=list)
    chains: dict[int, _ChainState] = field(default_factory=dict)
    checkpoint: Checkpoint | None = None

    @property
    def intact(self) -> bool:
        return not self.problems


def _label(chain: int) -> str:
    return "platform events" if chain == 0 else f"organization {chain}"


def _check_event(event: AccessEvent, state: _ChainState) -> str | None:
    where = f"event #{event.seq} ({_label(event.chain)}, position {event.chain_seq})"
    if event.chain_seq != state.expected_seq:
        return (f"{_label(event.chain)}: positions {state.expected_seq} to "
                f"{event.chain_seq - 1} are missing before event #{event.seq} (deleted rows)")
    if event.chain != chain_of(event.organization_id):
        return f"{where} was moved from its organization's chain"
    if not same(event.prev_hash, state.expected_prev):
        return f"{where} does not link to the event before it"
    if not same(event.compute_hash(), event.hash):
        return f"{where} was altered after it was written (its keyed hash does not match)"
    return None


def audit_verify_report(
    *, progress: Callable[[int], object] | None = None, directory: Path | None = None
) -> VerifyReport:
    """Walk every chain, then compare with the latest checkpoint; collect one problem per
    chain (the first) and every checkpoint mismatch."""
    report = VerifyReport(checkpoint=latest_checkpoint(directory=directory))
    marks = report.checkpoint.chains if report.checkpoint else {}
    events = AccessEvent.objects.order_by("chain", "chain_seq").iterator(chunk_size=5000)
    for event in events:
        report.events += 1
        state = report.chains.setdefault(event.chain, _ChainState())
        state.count += 1
        state.head_seq = max(state.head_seq, event.chain_seq)
        mark = marks.get(event.chain)
        if mark is not None and event.chain_seq <= mark.seq:
            state.count_to_checkpoint += 1
            if event.chain_seq == mark.seq:
                state.hash_at_checkpoint = event.hash
        if not state.broken:
            message = _check_event(event, state)
            if message is not None:
                state.broken = True
                report.problems.append(ChainProblem(event.seq, message, event.chain))
            state.expected_seq = event.chain_seq + 1
            state.expected_prev = event.hash
        if progress is not None and report.events % 10_000 == 0:
            progress(report.events)
    if report.checkpoint is not None:
        report.problems.extend(_against_checkpoint(report, report.checkpoint))
    return report


def _against_checkpoint(report: VerifyReport, checkpoint: Checkpoint) -> list[ChainProblem]:
    if checkpoint.error:
        return [ChainProblem(None, checkpoint.error)]
    when = f"the checkpoint of {checkpoint.written_at}"
    problems = []
    for chain, mark in sorted(checkpoint.chains.items()):
        state = report.chains.get(chain)
        name = _label(chain)
        if state is None:
            problems.append(ChainProblem(None, (
                f"{name}: {when} recorded {mark.count} events; none are left "
                "(rows deleted or the table truncated)"), chain))
        elif state.head_seq < mark.seq:
            problems.append(ChainProblem(None, (
                f"{name}: {when} recorded events up to position {mark.seq}; the database "
                f"ends at position {state.head_seq} (the newest events were deleted)"), chain))
        elif state.hash_at_checkpoint is None or not same(state.hash_at_checkpoint, mark.head):
            problems.append(ChainProblem(None, (
                f"{name}: the event at position {mark.seq} is not the one {when} recorded "
                "(the chain was rewritten)"), chain))
        elif state.count_to_checkpoint != mark.count:
            problems.append(ChainProblem(None, (
                f"{name}: {when} recorded {mark.count} events up to position {mark.seq}; "
                f"the database has {state.count_to_checkpoint}"), chain))
    return problems


def audit_verify(*, progress: Callable[[int], object] | None = None) -> ChainProblem | None:
    """The first problem found (chains first, then the checkpoint), or None when intact."""
    report = audit_verify_report(progress=progress)
    return report.problems[0] if report.problems else None
