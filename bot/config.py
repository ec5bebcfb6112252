"""Configuration: a TOML file, every key overridable from the environment.

Environment variables are ``COMMUNITY_BOT_<SECTION>__<KEY>`` (for example
``COMMUNITY_BOT_DINGTALK__CLIENT_SECRET``); the SDK's own ``DINGTALK_OPENAPI_ENDPOINT``
overrides ``dingtalk.openapi_endpoint``.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NestedSecretsSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

DEFAULT_ENDPOINT = "https://api.dingtalk.com"
OAPI_ENDPOINT = "https://oapi.dingtalk.com"


class ConfigError(Exception):
    """A configuration problem, phrased as one line that names the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DingTalkConfig(_Section):
    """The DingTalk application (stream mode robot)."""

    client_id: str = ""
    client_secret: SecretStr = SecretStr("")
    robot_code: str = ""
    openapi_endpoint: str = DEFAULT_ENDPOINT
    # The older API host, where the media upload API lives (help.dingtalk.io 上传媒体文件:
    # POST https://oapi.dingtalk.com/media/upload); pictures and charts are sent by media id.
    # Empty: oapi.dingtalk.com with the default endpoint, else the same host as
    # openapi_endpoint (a stand-in serves both).
    oapi_endpoint: str = ""

    @property
    def effective_oapi_endpoint(self) -> str:
        """Where the older API's calls go."""
        if self.oapi_endpoint:
            return self.oapi_endpoint
        if self.openapi_endpoint == DEFAULT_ENDPOINT:
            return OAPI_ENDPOINT
        return self.openapi_endpoint

    @property
    def effective_robot_code(self) -> str:
        """The robot code, which defaults to the client id."""
        return self.robot_code or self.client_id

    @field_validator("oapi_endpoint")
    @classmethod
    def _strip_oapi_slash(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("openapi_endpoint")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class StorageConfig(_Section):
    """Where the data lives."""

    url: str = "sqlite:///./data/community-bot.sqlite3"
    inbox_retention_hours: float = Field(default=48.0, gt=0)
    # De-duplication keys (msgId) outlive the raw payloads, so a late redelivery is still
    # recognised; only the key is kept, without payload, sender or conversation.
    dedupe_retention_days: float = Field(default=30.0, gt=0)
    # PostgreSQL: connections one process keeps open, and the extra ones it may open under a
    # burst; a process never holds more than their sum (README "Deploy"). Unused on SQLite.
    pool_size: int = Field(default=10, ge=1)
    max_overflow: int = Field(default=10, ge=0)


class AdminsConfig(_Section):
    """Who may use admin commands."""

    staff_ids: list[str] = Field(default_factory=list)
    trust_dingtalk_admin: bool = False


class BotConfig(_Section):
    """General behaviour."""

    timezone: str = "Asia/Shanghai"
    workers: int = Field(default=1, ge=1, le=32)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        """The configured zone as a ``ZoneInfo``."""
        return ZoneInfo(self.timezone)


class CardsConfig(_Section):
    """Card template ids from DingTalk's card builder; empty means markdown fallback."""

    story_template: str = ""
    event_template: str = ""
    swap_template: str = ""
    review_template: str = ""
    digest_template: str = ""
    generic_template: str = ""


class StoriesConfig(_Section):
    """Story submission."""

    review_default: bool = True
    title_max: int = Field(default=40, ge=1, le=200)
    body_max: int = Field(default=2000, ge=1, le=10_000)
    top: int = Field(default=10, ge=1, le=50)
    # Admins are told of stories waiting for review one to one, at most once per group in
    # this many minutes (several submissions in between make one notice).
    review_notice_minutes: float = Field(default=30.0, ge=1)
    # Pictures sent with a story: at most this many per story, each at most picture_max_kb
    # (a bigger one is refused with a reply; the story keeps its text). The bytes are kept
    # in the database; on SQLite, whose driver runs in the event loop's thread, fetching and
    # writing a 1 MB picture held the loop 13-17 ms, a 5 MB write alone about 60 ms
    # (measured), so the limit stays at 1 MB (DingTalk's media upload would take 20 MB).
    pictures_per_story: int = Field(default=3, ge=0, le=9)
    picture_max_kb: int = Field(default=1024, ge=1, le=1024)


class RetentionConfig(_Section):
    """How long records are kept, in days, by the hourly retention job (0: forever)."""

    # Rejected stories (with their likes and pictures), counted from the decision.
    rejected_stories_days: int = Field(default=90, ge=0)
    # Likes of stories withdrawn or removed (they count for nothing), counted from the
    # take-down. Likes of live stories stay: the ring and like-only signals read them all.
    like_evidence_days: int = Field(default=180, ge=0)
    # The admin audit log (/审计).
    audit_log_days: int = Field(default=365, ge=0)
    # Outbox rows already delivered (or given up), counted from when they were written.
    delivered_outbox_days: int = Field(default=7, ge=0)
    # Pictures of stories, counted from when they were sent (the story keeps its text).
    pictures_days: int = Field(default=365, ge=0)


class LikesConfig(_Section):
    """Honest likes: what looks brushed, and what such likes still count for."""

    daily_cap: int = Field(default=10, ge=1)
    burst_window_seconds: float = Field(default=60.0, gt=0)
    burst_min_likes: int = Field(default=8, ge=2)
    burst_suspicious_share: float = Field(default=0.6, gt=0, le=1)
    fresh_member_hours: float = Field(default=24.0, ge=0)
    ring_min_mutual: int = Field(default=3, ge=1)
    like_only_min_likes: int = Field(default=5, ge=1)
    burst_weight: float = Field(default=0.1, ge=0, le=1)
    ring_weight: float = Field(default=0.3, ge=0, le=1)
    like_only_weight: float = Field(default=0.2, ge=0, le=1)
    rescore_seconds: float = Field(default=30.0, gt=0)


class VolunteersConfig(_Section):
    """Volunteer activities: when a check-in code is accepted, and how guessing is slowed."""

    checkin_before_minutes: int = Field(default=30, ge=0, le=24 * 60)
    checkin_after_minutes: int = Field(default=60, ge=0, le=24 * 60)
    checkin_max_wrong: int = Field(default=5, ge=1, le=100)
    checkin_wrong_window_minutes: int = Field(default=10, ge=1, le=24 * 60)
    # When reminders go out before an activity's start, unless it has its own plan
    # (/活动 提醒 <id> 2h,15m): comma-separated, e.g. "24h,1h".
    reminders: str = "24h,1h"
    # How far ahead a recurring series (/活动 新建 … | 每周三) has its activities created.
    series_horizon_days: int = Field(default=28, ge=1, le=366)


class DigestConfig(_Section):
    """The weekly digest: the default slot, the catch-up window, what it shows."""

    weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    time: str = Field(default="09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    grace_hours: float = Field(default=12.0, ge=0)
    top: int = Field(default=5, ge=1, le=20)
    max_bytes: int = Field(default=12_000, ge=1000, le=15_000)


class NetworkConfig(_Section):
    """How the bot reaches DingTalk: an optional proxy for every outbound connection."""

    # Empty: HTTPS_PROXY / HTTP_PROXY / ALL_PROXY from the environment, else direct.
    proxy: str = ""
    # Hosts reached directly, added to NO_PROXY (comma-separated, ".domain" suffixes).
    no_proxy: str = ""

    @field_validator("proxy")
    @classmethod
    def _http_proxy(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// proxy URL")
        return value


class StreamConfig(_Section):
    """The stream connection: reconnects and the half-open watchdog."""

    ping_interval: float = Field(default=10.0, gt=0)
    ping_timeout: float = Field(default=5.0, gt=0)
    backoff_initial: float = Field(default=0.5, gt=0)
    backoff_max: float = Field(default=30.0, gt=0)


class SenderConfig(_Section):
    """Outbound delivery: retries, leases and the per-group pace."""

    # httpx's connection pool does best at a few requests in flight (measured: bench/).
    concurrency: int = Field(default=4, ge=1, le=64)
    max_attempts: int = Field(default=12, ge=1)
    # Throttling is waited out while the reply is still useful, not for a number of tries:
    # hours for a reply to a member, longer for scheduled posts and notices.
    throttled_reply_hours: float = Field(default=6.0, gt=0)
    throttled_post_hours: float = Field(default=48.0, gt=0)
    backoff_initial: float = Field(default=0.5, gt=0)
    backoff_max: float = Field(default=60.0, gt=0)
    lease_seconds: float = Field(default=30.0, gt=0)
    group_messages_per_minute: int = Field(default=20, ge=1)
    group_burst: int = Field(default=5, ge=1)
    http_timeout: float = Field(default=10.0, gt=0)
    # Calls a second to each DingTalk OpenAPI, for the whole app (every process together):
    # DingTalk throttles about 20 calls a second per app per API
    # (Forbidden.AccessDenied.QpsLimitForAppkeyAndApi; DINGTALK.md "Errors and limits").
    api_calls_per_second: float = Field(default=20.0, gt=0)
    # How often the outbox is read for rows nobody holds (retries, another process's
    # leftovers). On PostgreSQL other processes also say at once when they leave work
    # (LISTEN/NOTIFY), so polling is only the safety net there and may be slower.
    poll_seconds: float = Field(default=0.25, gt=0)
    # false: this process sends nothing; the replies it writes are left, unleased, for the
    # senders of the other processes (e.g. while this host's outbound IP is blocked).
    enabled: bool = True


class OpsConfig(_Section):
    """Operating the bot: health and metrics endpoints, logs, alerts, shutdown."""

    # host:port for /livez, /readyz and /metrics; empty turns the endpoints off.
    listen: str = Field(default="127.0.0.1:9464", pattern=r"^$|^\[?[0-9A-Za-z.:-]*\]?:\d{1,5}$")
    log_format: Literal["text", "json"] = "text"
    # /readyz fails when the stream has not answered a ping within this many seconds.
    ready_timeout: float = Field(default=5.0, gt=0)
    # Who is told one to one when something fails (default: admins.staff_ids).
    alert_staff_ids: list[str] | None = None
    # The same failure is told once per interval; repeats are summed up after it.
    alert_interval_seconds: float = Field(default=3600.0, gt=0)
    # SIGTERM: finish the work in hand for at most this long, then stop.
    shutdown_timeout: float = Field(default=20.0, gt=0)

    @property
    def host_port(self) -> tuple[str, int] | None:
        """``listen`` split into host and port, or None when the endpoints are off."""
        if not self.listen:
            return None
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]") or "0.0.0.0", int(port)


class Settings(BaseSettings):
    """Everything the bot is told from outside."""

    model_config = SettingsConfigDict(
        env_prefix="COMMUNITY_BOT_",
        env_nested_delimiter="__",
        extra="forbid",
        # Secrets as files too (Docker / systemd credentials): a file named like the
        # environment variable, e.g. /run/secrets/community_bot_dingtalk__client_secret.
        secrets_nested_delimiter="__",
        secrets_dir_missing="ok",
    )

    dingtalk: DingTalkConfig = Field(default_factory=DingTalkConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    admins: AdminsConfig = Field(default_factory=AdminsConfig)
    bot: BotConfig = Field(default_factory=BotConfig)
    cards: CardsConfig = Field(default_factory=CardsConfig)
    stories: StoriesConfig = Field(default_factory=StoriesConfig)
    likes: LikesConfig = Field(default_factory=LikesConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    digest: DigestConfig = Field(default_factory=DigestConfig)
    volunteers: VolunteersConfig = Field(default_factory=VolunteersConfig)
    network: NetworkConfig = Field(default_factory=NetworkConfig)
    stream: StreamConfig = Field(default_factory=StreamConfig)
    sender: SenderConfig = Field(default_factory=SenderConfig)
    ops: OpsConfig = Field(default_factory=OpsConfig)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over secret files (``secrets_dir``), which win over the
        # config file, passed in as init values.
        return (env_settings, NestedSecretsSettingsSource(file_secret_settings), init_settings)

    def secret_values(self) -> list[str]:
        """Every secret in the configuration, for masking in logs."""
        from sqlalchemy.engine import make_url

        values = [self.dingtalk.client_secret.get_secret_value()]
        try:
            password = make_url(self.storage.url).password
        except Exception:  # a URL SQLAlchemy cannot read has no password to hide
            password = None
        if password:
            values.append(str(password))
        return [v for v in values if v]

    def model_post_init(self, __context: Any) -> None:
        override = os.environ.get("DINGTALK_OPENAPI_ENDPOINT")
        if override:
            self.dingtalk.openapi_endpoint = override.rstrip("/")


def _describe(exc: ValidationError) -> str:
    err = exc.errors()[0]
    key = ".".join(str(part) for part in err["loc"]) or "(top level)"
    message = err["msg"]
    if err["type"] == "extra_forbidden":
        message = "unknown key"
    return f"{key}: {message}"


DEFAULT_SECRETS_DIR = "/run/secrets"


def secrets_dir() -> str:
    """Where secret files are read from: ``COMMUNITY_BOT_SECRETS_DIR``, else /run/secrets
    (Docker's secrets; systemd's ``LoadCredential=`` puts them in ``$CREDENTIALS_DIRECTORY``)."""
    return (
        os.environ.get("COMMUNITY_BOT_SECRETS_DIR")
        or os.environ.get("CREDENTIALS_DIRECTORY")
        or DEFAULT_SECRETS_DIR
    )


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Load settings from an optional TOML file, the environment and explicit overrides.

    Raises:
        ConfigError: the file is missing or unreadable, or a key has a bad value.
    """
    data: dict[str, Any] = {}
    if path is not None:
        file = Path(path)
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"config file not found: {file}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: not valid TOML: {exc}") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{file}: cannot read: {exc}") from exc
    for section, values in overrides.items():
        data.setdefault(section, {}).update(values)
    try:
        return Settings(_secrets_dir=secrets_dir(), **data)
    except ValidationError as exc:
        where = f"{path}: " if path is not None else ""
        raise ConfigError(f"{where}{_describe(exc)}") from None
