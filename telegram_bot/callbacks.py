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
    """file: send the weights; use: recognize with this model."""

    action: str
    id: int


class SettingsCb(CallbackData, prefix="c"):
    """model / conf / check / clear open a choice; setm / setc pick a model / threshold."""

    action: str
    value: str = ""


class StreamCb(CallbackData, prefix="v"):
    """start / stop / shot (the latest frame) of a stream; list (refresh) and alerts (on or off) of the whole list."""

    action: str
    id: int = 0
