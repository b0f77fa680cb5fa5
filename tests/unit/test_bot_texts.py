"""Bot texts: language choice, formatting of sessions, verdicts and logs, kit parsing (catalogs: test_bot_i18n_catalogs)."""

from __future__ import annotations

import re
import string
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from telegram_bot.callbacks import LogsCb, ModelCb, SessionCb, SettingsCb, WizardCb
from telegram_bot.formatting import (
    TELEGRAM_TEXT_LIMIT,
    failure_text,
    format_duration,
    logs_page,
    parse_check,
    progress_bar,
    session_card,
    verdict_text,
)
from telegram_bot.i18n import lang_of, t
from telegram_bot.schemas import ImageResult, LogLine, SessionRead


def session(**overrides: object) -> SessionRead:
    base: dict[str, Any] = {"id": 7, "name": "tray <v2>", "model": "yolov8n.yaml", "status": "running", "stop_requested": False,
            "progress": {"epoch": 3, "epochs": 10, "batch": 2, "batches": 5, "percent": 34.0, "elapsed_s": 30,
                         "eta_s": 125.0},
            "latest_metrics": {"metrics/mAP50(B)": 0.5123, "train/box_loss": 1.25, "lr/pg0": 0.01},
            "best_metrics": {}, "error": None, "error_tail": None, "result_model_id": None}
    base.update(overrides)
    return SessionRead.model_validate(base)


def test_language_is_english_for_english_users_and_russian_otherwise() -> None:
    assert [lang_of(code) for code in ("en", "en-GB", "ru", "de", None)] == ["en", "en", "ru", "ru", "ru"]


def test_progress_bar_and_durations() -> None:
    assert progress_bar(0.5, width=10) == "█████░░░░░ 50%"
    assert progress_bar(-1, width=4) == "░░░░ 0%" and progress_bar(3, width=4) == "████ 100%"
    assert [format_duration(s) for s in (None, 5, 65, 3725)] == ["—", "5s", "1m 05s", "1h 02m"]


def test_session_card_shows_epoch_bar_metrics_and_eta_and_escapes_the_name() -> None:
    card = session_card(session(), "en")
    assert "tray &lt;v2&gt;" in card and "Epoch 3/10" in card and "███" in card and "34%" in card
    assert "mAP50 0.512" in card and "box_loss 1.250" in card and "lr/pg0" not in card
    assert "ETA ≈ 2m 05s" in card
    assert "ETA" not in session_card(session(status="completed"), "en")
    assert "Эпоха 3/10" in session_card(session(), "ru")


def test_failure_text_quotes_the_log_tail_escaped() -> None:
    text = failure_text(session(status="failed", error="child died", error_tail=["a <b>", "", "Traceback: x"]), "en")
    assert "child died" in text and "a &lt;b&gt;\nTraceback: x" in text


def image(verdict: str, found: int, *, expected: int | None = None, counts: dict | None = None,
          missing: dict | None = None, extra: dict | None = None) -> ImageResult:
    return ImageResult(index=0, verdict=verdict, found=found, expected=expected, counts=counts or {},
                       missing=missing or {}, extra=extra or {}, image_url="/recognitions/1/images/0")


def test_verdicts_read_like_the_issue_says() -> None:
    assert verdict_text(image("complete", 11, expected=11), "en") == "✅ complete 11/11"
    assert verdict_text(image("incomplete", 9, expected=11), "en") == "⚠️ found 9 of 11"
    assert verdict_text(image("incomplete", 12, expected=11), "en") == "⚠️ found 12, expected 11"
    assert verdict_text(image("complete", 3, counts={"wrench": 2, "pliers": 1}), "en") == "✅ complete 3/3"
    missing = image("incomplete", 2, counts={"wrench": 2}, missing={"pliers": 1}, extra={"saw": 1})
    assert verdict_text(missing, "en") == "⚠️ missing: pliers ×1\n➕ extra: saw ×1"
    assert verdict_text(image("unchecked", 4), "ru") == "🔎 найдено объектов: 4"


def test_log_pages_fit_in_one_message_and_are_escaped() -> None:
    lines = [LogLine(level="INFO", message="<tag> " + "x" * 500) for _ in range(30)]
    page = logs_page(3, lines, first=1, total=30, lang="en")
    assert len(page) <= TELEGRAM_TEXT_LIMIT and "<tag>" not in page and "&lt;tag&gt;" in page
    assert page.startswith("<b>Log #3</b>, lines 1–30 of 30")


def test_kit_text_is_parsed_in_the_forms_the_settings_prompt_names() -> None:
    assert parse_check("11") == 11
    assert parse_check("wrench=2, pliers=1") == {"wrench": 2, "pliers": 1}
    assert parse_check("wrench: 2; pliers: 1") == {"wrench": 2, "pliers": 1}
    assert parse_check('{"wrench": 2}') == {"wrench": 2}
    for bad in ("", "wrench", "wrench=two", "{bad json", "[1, 2]", "=3", "99999999"):
        assert parse_check(bad) is None, bad


names = st.text(alphabet=string.ascii_letters + "_- ", min_size=1, max_size=20).map(str.strip).filter(bool)


@given(st.dictionaries(names, st.integers(0, 10_000), min_size=1, max_size=12))
def test_any_kit_round_trips_through_its_text(kit: dict[str, int]) -> None:
    assert parse_check(", ".join(f"{name}={count}" for name, count in kit.items())) == kit


def test_callback_data_fits_telegrams_64_bytes() -> None:
    big = 2**31 - 1
    packed = [WizardCb(step="m", value="yolo11x-cls.yaml").pack(), SessionCb(action="resume", id=big).pack(),
              LogsCb(id=big, offset=big).pack(), ModelCb(action="file", id=big).pack(),
              SettingsCb(action="setm", value=str(big)).pack()]
    assert all(len(p.encode()) <= 64 for p in packed), packed


def test_menu_texts_are_translated_and_unknown_languages_get_russian() -> None:
    assert t("en", "menu-train") != t("ru", "menu-train") and re.match(r"^\W", t("ru", "menu-train"))
    assert t("de", "menu-train") == t("ru", "menu-train")


def test_numbers_are_shown_as_python_prints_them_not_grouped_by_locale() -> None:
    assert t("en", "logs-page", id=1, first=9999, last=10000, total=12345).endswith("lines 9999–10000 of 12345")
    assert t("ru", "recognition-model", id=3, conf=0.25, ms="41") == "Модель #3, порог 0.25, 41 мс"
