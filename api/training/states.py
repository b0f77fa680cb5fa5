"""The session state machine as data: the one table every status change goes through.

The store's compare-and-set (`UPDATE ... WHERE status IN (sources)`) takes its sources from this table, so a
change the table does not allow can never land, whoever asks for it."""

from __future__ import annotations

from api.training.schemas import SessionStatus

_S = SessionStatus

TRANSITIONS: dict[SessionStatus, frozenset[SessionStatus]] = {
    _S.queued: frozenset({_S.running, _S.cancelled}),  # the scheduler starts it, or a stop cancels it
    _S.running: frozenset({_S.completed, _S.failed, _S.stopped, _S.interrupted}),  # interrupted: the server died
    _S.interrupted: frozenset({_S.queued}),  # resume (by hand or AUTO_RESUME)
    _S.stopped: frozenset({_S.queued}),  # resume
    _S.completed: frozenset(),
    _S.failed: frozenset(),
    _S.cancelled: frozenset(),
}

DELETABLE = frozenset(status for status in SessionStatus if status != _S.running)  # a running child owns its files


def sources_of(target: SessionStatus) -> tuple[SessionStatus, ...]:
    """Every status from which `target` may be reached, in a stable order."""
    return tuple(status for status in SessionStatus if target in TRANSITIONS[status])


def is_legal(source: SessionStatus, target: SessionStatus) -> bool:
    return target in TRANSITIONS[source]
