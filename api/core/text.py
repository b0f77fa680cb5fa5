"""User-supplied names made safe to show: class names end up drawn on images, in file names and in chats."""

from __future__ import annotations

import unicodedata


def printable(value: object, limit: int = 200) -> str:
    """`value` as text without control (or unassigned) characters, trimmed, at most `limit` characters."""
    return "".join(ch for ch in str(value) if unicodedata.category(ch)[0] != "C").strip()[:limit]
