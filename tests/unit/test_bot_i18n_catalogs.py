"""The Fluent catalogs: both languages have every message with the same variables, and every id the code uses exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from fluent.syntax import FluentParser
from fluent.syntax import ast as fluent_ast
from fluent.syntax.visitor import Visitor

from telegram_bot.handlers.start import COMMANDS
from telegram_bot.i18n import LOCALES, LOCALES_DIR, t

BOT = Path(__file__).resolve().parents[2] / "telegram_bot"
MESSAGE_ID = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)+")  # every id with a dash: the one-word ids are checked by call
SESSION_STATUSES = ("queued", "running", "completed", "failed", "stopped", "cancelled", "interrupted")


class Variables(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def visit_VariableReference(self, node: fluent_ast.VariableReference) -> None:
        self.names.add(node.id.name)


def messages(locale: str) -> dict[str, set[str]]:
    """Message id -> the variables it uses; a syntax error fails here rather than as a missing text later."""
    resource = FluentParser().parse((LOCALES_DIR / locale / "bot.ftl").read_text(encoding="utf-8"))
    junk = [entry.content for entry in resource.body if isinstance(entry, fluent_ast.Junk)]
    assert junk == [], junk
    found: dict[str, set[str]] = {}
    for entry in resource.body:
        if isinstance(entry, fluent_ast.Message):
            visitor = Variables()
            visitor.visit(entry)
            found[entry.id.name] = visitor.names
    return found


def used_ids() -> tuple[set[str], set[str]]:
    """(ids, f-string prefixes) in the bot's code: the key of each t() call, LazyFilter ids, and every dashed name in
    a module that renders texts (keys kept in tuples, such as the menu's)."""
    ids: set[str] = set()
    prefixes: set[str] = set()
    for path in BOT.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        renders = any(isinstance(node, ast.ImportFrom) and node.module == "telegram_bot.i18n" for node in ast.walk(tree))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("t", "LazyFilter"):
                keys = node.args[1:2] if node.func.id == "t" else node.args
                for key in keys:
                    if isinstance(key, ast.JoinedStr) and isinstance(key.values[0], ast.Constant):
                        prefixes.add(str(key.values[0].value))
                    else:
                        ids.update(c.value for c in ast.walk(key) if isinstance(c, ast.Constant) and isinstance(c.value, str))
            elif renders and isinstance(node, ast.Constant) and isinstance(node.value, str):
                ids.update([node.value] if MESSAGE_ID.fullmatch(node.value) else [])
    return ids, prefixes


def test_both_languages_have_the_same_messages_with_the_same_variables() -> None:
    ru, en = messages("ru"), messages("en")
    assert set(LOCALES) == {"ru", "en"}
    assert sorted(ru.keys() ^ en.keys()) == []
    assert {key: (ru[key], en[key]) for key in ru if ru[key] != en[key]} == {}


def test_every_message_the_code_uses_exists() -> None:
    known = messages("ru").keys()
    ids, prefixes = used_ids()
    assert len(ids) > 50 and {"help", "start", "menu-train", "stream-down"} <= ids  # the collector still works
    assert sorted(ids - known) == []
    assert prefixes == {"cmd-", "session-status-"}
    assert sorted({f"cmd-{name}" for name in COMMANDS} - known) == []
    assert sorted({f"session-status-{status}" for status in SESSION_STATUSES} - known) == []


def test_multiline_messages_keep_their_line_breaks() -> None:
    assert t("en", "help").startswith("<b>Commands</b>\n/train — train a model\n")
    assert "/help — эта справка\n\nПришлите фото" in t("ru", "help")
