"""Settings precedence: defaults < .env < environment < run_api.py flags."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from api.core.settings import Settings
from run_api import parse_flags


def test_defaults_fit_a_newcomer(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert (settings.host, settings.port, settings.data_dir) == ("127.0.0.1", 8000, (tmp_path / "data").resolve())
    assert settings.data_dir.is_absolute()  # a relative data dir broke the README's own training run
    assert settings.api_keys == [] and settings.max_concurrent_sessions == 1 and settings.auto_resume


A, B, C, Z = (f"key-{name}-0123456789abcdefghij" for name in "abcz")


def test_env_file_then_env_then_flags(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    dotenv_key = "from-dotenv-key-0123456789abcd"
    (tmp_path / ".env").write_text(f"PORT=7001\nLOG_LEVEL=debug\nAPI_KEYS={dotenv_key}\nMAX_CONCURRENT_SESSIONS=3\n")
    from_file = Settings()
    assert (from_file.port, from_file.log_level, from_file.api_keys) == (7001, "debug", [dotenv_key])

    monkeypatch.setenv("PORT", "7002")
    monkeypatch.setenv("API_KEYS", f"{A}, {B} ,{C}")
    from_env = Settings()
    assert (from_env.port, from_env.api_keys, from_env.max_concurrent_sessions) == (7002, [A, B, C], 3)

    flags = parse_flags(["--port", "7003", "--api-keys", Z, "--log-level", "warning", "--data-dir", "/srv/d"])
    from_flags = Settings(**flags)
    assert (from_flags.port, from_flags.api_keys, from_flags.log_level) == (7003, [Z], "warning")
    assert from_flags.data_dir == Path("/srv/d") and from_flags.max_concurrent_sessions == 3


def test_flags_not_given_do_not_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOST", "0.0.0.0")
    assert parse_flags([]) == {}
    assert Settings(**parse_flags(["--max-concurrent-sessions", "2"])).host == "0.0.0.0"


def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MAX_CONCURRENT_SESSIONS", "0")
    with pytest.raises(ValueError, match="max_concurrent_sessions"):
        Settings()


def test_help_explains_each_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_flags(["--help"])
    text = capsys.readouterr().out
    for flag in ("--host", "--port", "--data-dir", "--api-keys", "--max-concurrent-sessions", "--log-level"):
        assert flag in text
    assert "environment" in text


def test_short_configured_keys_are_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A short key is guessable, and its first 8 characters are shown as its prefix: 24 characters at least."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValidationError, match="24 characters"):
        Settings(api_keys=["tk_short-12345"])
    assert Settings(api_keys=["x" * 24]).api_keys == ["x" * 24]
