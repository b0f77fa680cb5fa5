"""Bot settings: defaults < .env < environment (DESIGN.md names the variables)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

OFFICIAL_BOT_API = "https://api.telegram.org"


class BotSettings(BaseSettings):
    """Everything the bot can be told; each field is also an env var of the same name (upper case)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr = Field(description="Token from @BotFather, e.g. 123456:ABC-DEF...")
    api_url: str = Field("http://127.0.0.1:8000", description="Base URL of the training server (no /api/v1).")
    api_key: SecretStr = Field(description="An operator or admin key of the training server.")
    allowed_users: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="Comma-separated Telegram user ids. Empty: nobody may use the bot."
    )
    telegram_api_url: str = Field(OFFICIAL_BOT_API, description="Bot API base URL (tests point it at a fake).")
    bot_data_dir: Path = Field(Path("bot_data"), description="Where the bot keeps its SQLite file.")
    poll_interval_s: float = Field(3.0, gt=0, description="Session polling period while the event stream is down.")
    edit_interval_s: float = Field(1.0, ge=0, description="Least time between two edits in one chat.")
    crossing_interval_s: float = Field(10.0, gt=0, description="Least time between two crossing summaries of a stream.")
    album_wait_s: float = Field(0.8, gt=0, description="How long to collect the photos of one album.")
    log_page_lines: int = Field(15, ge=1, le=100, description="Log lines per page in /logs.")
    log_level: str = Field("info", description="Log level of the bot.")
    llm_base_url: str = Field("", description="OpenAI-compatible API base for Chat with AI, e.g. http://127.0.0.1:11434/v1.")
    llm_model: str = Field("", description="The model name the LLM server knows, e.g. qwen2.5:7b.")
    llm_api_key: SecretStr | None = Field(None, description="Bearer token for the LLM server, if it wants one.")
    llm_timeout_s: float = Field(60.0, gt=0, description="Longest wait for one answer of the LLM.")
    llm_max_rounds: int = Field(5, ge=1, le=20, description="Most tool-call rounds for one question.")
    llm_history_turns: int = Field(8, ge=1, le=100, description="Questions (with their answers) remembered per chat.")
    llm_tool_result_chars: int = Field(4000, ge=200, le=100_000, description="Tool results are trimmed to this size.")

    @field_validator("allowed_users", mode="before")
    @classmethod
    def _split_users(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(";", ",").split(",") if part.strip()]
        if isinstance(value, int):
            return [value]
        return value

    @property
    def database_path(self) -> Path:
        return self.bot_data_dir / "bot.db"
