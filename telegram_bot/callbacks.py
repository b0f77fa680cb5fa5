"""Every CallbackData factory of the bot: short prefixes, ids only (Telegram allows 64 bytes)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class WizardCb(CallbackData, prefix="w"):
    """A step of the training wizard: step is ds (dataset), m (model), ep (epochs), custom, go, back, cancel."""

    step: str
    value: str = ""


class SessionCb(CallbackData, prefix="s"):
    """stop / resume / logs of a session."""

    action: str
    id: int


class LogsCb(CallbackData, prefix="l"):
    id: int
    offset: int


class ModelCb(CallbackData, prefix="m"):
    """file: send the weights; use: recognize with this model; info (details), eval (pick a dataset), onnx, del."""

    action: str
    id: int


class SettingsCb(CallbackData, prefix="c"):
    """model / conf / check / clear / notify open a choice; setm / setc / setn pick a model / threshold / notifications."""

    action: str
    value: str = ""


class StreamCb(CallbackData, prefix="v"):
    """start / stop / shot (the latest frame) of a stream; list (refresh) and alerts (on or off) of the whole list."""

    action: str
    id: int = 0


class EvalCb(CallbackData, prefix="e"):
    """Evaluate model `model` on dataset `dataset`."""

    model: int
    dataset: int


class ConfirmCb(CallbackData, prefix="y"):
    """The answer to "are you sure?": `what` is mdel (delete a model), sdel (delete a run) or cancel (a queued run)."""

    what: str
    id: int
    yes: bool


class RunCb(CallbackData, prefix="r"):
    """page (past runs from offset, as of a snapshot id), show / chart / del of one run."""

    action: str
    id: int = 0
    offset: int = 0


class QueueCb(CallbackData, prefix="q"):
    """list (a new queue message), refresh (that message), up / down (priority), cancel of a queued or running run."""

    action: str
    id: int = 0


class HistoryCb(CallbackData, prefix="h"):
    """page (my recognitions from offset, as of id), show (one recognition again), sum (my summary)."""

    action: str
    id: int = 0
    offset: int = 0


class ExplainCb(CallbackData, prefix="x"):
    """Why? — the heatmap of image n of recognition id."""

    id: int
    n: int = 0


class AiCb(CallbackData, prefix="ai"):
    """Chat with AI: ok / no (Confirm or Cancel the proposed change `id`), clear (forget the conversation)."""

    action: str
    id: int = 0
