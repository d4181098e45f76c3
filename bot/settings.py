"""Settings from config/townqa.toml, each overridable by an environment variable TOWNQA_<NAME>."""

from __future__ import annotations

from pathlib import Path

import re
from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, TomlConfigSettingsSource

from retrieval import Engine, Thresholds

from . import conversation
from .database import is_url

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = ROOT / "config"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TOWNQA_", toml_file=CONFIG_DIR / "townqa.toml", extra="ignore", populate_by_name=True
    )

    seeds: Path = Path("seeds")
    config_dir: Path = CONFIG_DIR  # stop words, synonyms, user dictionary
    cache_dir: Path = Path(".cache/townqa")
    top_k: int = Field(3, ge=1, le=10)
    min_relative_score: float = Field(0.3, ge=0.0, le=1.0)
    telegram_bot_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("TELEGRAM_BOT_TOKEN", "TOWNQA_TELEGRAM_BOT_TOKEN", "telegram_bot_token")
    )
    # The Bot API root; a local emulator or self-hosted Bot API server goes here.
    telegram_base_url: str = Field(
        "https://api.telegram.org",
        validation_alias=AliasChoices("TELEGRAM_BASE_URL", "TOWNQA_TELEGRAM_BASE_URL", "telegram_base_url"),
    )
    webhook_url: str | None = None  # set to receive updates by webhook instead of long polling
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = Field(8443, ge=1, le=65535)
    webhook_secret: SecretStr | None = None
    db: Path | str = Path("data/townqa.sqlite3")  # a SQLite file, or a postgresql:// URL shared by replicas
    log_user_ids: bool = False
    rate_limit_per_minute: int = Field(20, ge=1)
    max_question_chars: int = Field(300, ge=10)
    concurrent_updates: int = Field(64, ge=1)
    log_level: str = "INFO"
    # Telegram user ids allowed to /reload, upload reports and review the log ("1,2" in the environment).
    admin_ids: Annotated[list[int], NoDecode] = []
    log_retention_days: int | None = Field(None, ge=1)  # None keeps every question
    max_upload_bytes: int = Field(5_000_000, ge=1)
    conversation_seconds: float = Field(conversation.WINDOW_SECONDS, gt=0)  # how long a chat's last question and towns are kept for follow-ups

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value):
        if isinstance(value, str):
            return [part for part in re.split(r"[,\s]+", value) if part]
        return value

    @field_validator("log_retention_days", mode="before")
    @classmethod
    def _empty_is_none(cls, value):
        return None if value in ("", 0, "0") else value

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings):
        # Explicit arguments win over the environment, which wins over the TOML file.
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls)

    def path(self, value: Path) -> Path:
        """Relative paths in the settings are relative to the project folder, not the shell's."""
        return value if value.is_absolute() else ROOT / value

    def database(self) -> Path | str:
        """Where the query log is: the PostgreSQL URL as given, or the SQLite file's full path."""
        return str(self.db) if is_url(self.db) else self.path(Path(self.db))

    def load_engine(self, rebuild: bool = False) -> Engine:
        return Engine.load(
            self.path(self.seeds),
            self.path(self.config_dir),
            self.path(self.cache_dir),
            Thresholds(self.min_relative_score),
            rebuild=rebuild,
        )
