"""Settings: the one place that reads the environment.

Everything else receives a ``Settings`` value, so tests build one with
``Settings(...)`` or ``Settings.from_env({...})`` and never touch ``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import time
from pathlib import Path

from hotline.workdays import parse_holidays

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"
TWILIO_API = "https://api.twilio.com"
GATEWAYS = ("simulator", "twilio", "android")


def _parse_hours(value: str) -> tuple[time, time]:
    start, _, end = value.partition("-")
    return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())


@dataclass(frozen=True)
class Settings:
    """Runtime configuration. Field metadata names the environment variable."""

    database_url: str = field(
        default=f"sqlite:///{INSTANCE / 'hotline.db'}", metadata={"env": "HOTLINE_DATABASE_URL"}
    )
    public_url: str = field(default="http://127.0.0.1:5000", metadata={"env": "HOTLINE_PUBLIC_URL"})
    secret_key: str = field(default="dev-only-change-me", metadata={"env": "HOTLINE_SECRET_KEY"})
    # The line's own number: inbound from it is never answered (no loops).
    hotline_number: str = field(default="+84240000000", metadata={"env": "HOTLINE_NUMBER"})
    sms_gateway: str = field(default="simulator", metadata={"env": "HOTLINE_SMS_GATEWAY"})
    voice_gateway: str = field(default="simulator", metadata={"env": "HOTLINE_VOICE_GATEWAY"})
    twilio_account_sid: str = field(default="", metadata={"env": "TWILIO_ACCOUNT_SID"})
    twilio_auth_token: str = field(default="", metadata={"env": "TWILIO_AUTH_TOKEN"})
    twilio_from: str = field(default="", metadata={"env": "TWILIO_FROM"})
    twilio_api_base_url: str = field(default=TWILIO_API, metadata={"env": "TWILIO_API_BASE_URL"})
    android_url: str = field(
        default="https://api.sms-gate.app/3rdparty/v1", metadata={"env": "HOTLINE_ANDROID_URL"}
    )
    android_login: str = field(default="", metadata={"env": "HOTLINE_ANDROID_LOGIN"})
    android_password: str = field(default="", metadata={"env": "HOTLINE_ANDROID_PASSWORD"})
    android_webhook_secret: str = field(
        default="", metadata={"env": "HOTLINE_ANDROID_WEBHOOK_SECRET"}
    )
    gateway_timeout: float = field(default=10.0, metadata={"env": "HOTLINE_GATEWAY_TIMEOUT"})
    quiet_hours: str = field(default="21:00-07:00", metadata={"env": "HOTLINE_QUIET_HOURS"})
    call_hours: str = field(default="08:00-21:00", metadata={"env": "HOTLINE_CALL_HOURS"})
    daily_cap: int = field(default=3, metadata={"env": "HOTLINE_DAILY_CAP"})
    # Voice notices (a member told by a call, not an SMS): nobody asked for these calls, so
    # Decree 91's 08:00-17:00, and at most this many calls placed to one number a day.
    notice_call_hours: str = field(default="08:00-17:00",
                                   metadata={"env": "HOTLINE_NOTICE_CALL_HOURS"})
    notice_call_cap: int = field(default=4, metadata={"env": "HOTLINE_NOTICE_CALL_CAP"})
    # Outbound messages per second; 0 turns the rate limit off.
    send_rate: float = field(default=10.0, metadata={"env": "HOTLINE_SEND_RATE"})
    # What one SMS part costs (VND), for the estimate the console shows before a broadcast.
    sms_price_vnd: int = field(default=350, metadata={"env": "HOTLINE_SMS_PRICE_VND"})
    # What one started minute of an outbound call costs (VND), for the voice broadcast
    # estimate and the monthly cost of voice notices (Twilio bills by the started minute).
    call_price_vnd: int = field(default=4000, metadata={"env": "HOTLINE_CALL_PRICE_VND"})
    audio_dir: str = field(default=str(INSTANCE / "audio"), metadata={"env": "HOTLINE_AUDIO_DIR"})
    # Trusted reverse proxies in front of the app (X-Forwarded-* hops); 0 = none.
    proxy_hops: int = field(default=0, metadata={"env": "HOTLINE_PROXY_HOPS"})
    # /healthz shows its details (backlogs, heartbeat) to a request carrying this value in
    # X-Health-Token, and to loopback clients; everyone else gets only its status.
    health_token: str = field(default="", metadata={"env": "HOTLINE_HEALTH_TOKEN"})
    # Console sessions end after this long without a request, and this long after sign-in
    # whatever happens (hours).
    session_idle_hours: float = field(default=8.0, metadata={"env": "HOTLINE_SESSION_IDLE_HOURS"})
    session_max_hours: float = field(default=12.0, metadata={"env": "HOTLINE_SESSION_MAX_HOURS"})
    run_scheduler: bool = field(default=False, metadata={"env": "HOTLINE_RUN_SCHEDULER"})
    # "single": one scheduler process runs every job (a lease keeps it to one). "shared"
    # (PostgreSQL only): every scheduler process also handles inbound SMS and drains the
    # outbox, rows claimed with SKIP LOCKED and the send rate's slots kept in the database.
    scheduler_mode: str = field(default="single", metadata={"env": "HOTLINE_SCHEDULER_MODE"})
    # Fernet key (``flask backup-key`` makes one) that encrypts every backup; none = no backup.
    backup_key: str = field(default="", metadata={"env": "HOTLINE_BACKUP_KEY"})
    # Backups older than this many days are pruned when a new one is written (newest kept).
    backup_keep_days: int = field(default=30, metadata={"env": "HOTLINE_BACKUP_KEEP_DAYS"})
    # Months after a case's closing when what identifies the person goes (retention job);
    # its recordings go earlier, after the second setting.
    retention_months: int = field(default=24, metadata={"env": "HOTLINE_RETENTION_MONTHS"})
    recording_retention_months: int = field(
        default=3, metadata={"env": "HOTLINE_RECORDING_RETENTION_MONTHS"}
    )
    # Public holidays that move every year (Tết, the Hùng Kings' day), as ISO dates with
    # commas: not working days when the line counts "2 working days" (hotline.workdays).
    holidays: str = field(default="", metadata={"env": "HOTLINE_HOLIDAYS"})
    testing: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> "Settings":
        """Build settings from ``environ`` (default ``os.environ``); overrides win."""
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            name = f.metadata.get("env")
            if name and environ.get(name, "") != "":
                raw = environ[name]
                if f.type == "bool":
                    values[f.name] = raw.strip().lower() in ("1", "true", "yes", "on")
                elif f.type == "int":
                    values[f.name] = int(raw)
                elif f.type == "float":
                    values[f.name] = float(raw)
                else:
                    values[f.name] = raw
        values.update(overrides)
        settings = cls(**values)
        settings.validate()
        return settings

    def replace(self, **changes) -> "Settings":
        return replace(self, **changes)

    def validate(self) -> None:
        for name in ("sms_gateway", "voice_gateway"):
            if getattr(self, name) not in GATEWAYS:
                raise ValueError(f"{name} must be one of {', '.join(GATEWAYS)}")
        _parse_hours(self.quiet_hours)
        _parse_hours(self.call_hours)
        _parse_hours(self.notice_call_hours)
        if self.notice_call_cap < 1:
            raise ValueError("notice_call_cap must be at least 1")
        if self.scheduler_mode not in ("single", "shared"):
            raise ValueError("scheduler_mode must be single or shared")
        if self.scheduler_mode == "shared" and not self.database_url.startswith("postgresql"):
            raise ValueError("scheduler_mode shared needs PostgreSQL (SQLite: one scheduler)")
        if not 1 <= self.recording_retention_months <= self.retention_months:
            raise ValueError("recording_retention_months must be between 1 and "
                             "retention_months")
        if self.sms_price_vnd < 0 or self.call_price_vnd < 0:
            raise ValueError("HOTLINE_SMS_PRICE_VND and HOTLINE_CALL_PRICE_VND cannot be negative")
        if self.backup_keep_days < 1:
            raise ValueError("backup_keep_days must be at least 1")
        self.holiday_dates  # noqa: B018 (a date that does not parse fails at start)

    @property
    def quiet(self) -> tuple[time, time]:
        return _parse_hours(self.quiet_hours)

    @property
    def holiday_dates(self) -> frozenset:
        try:
            return parse_holidays(self.holidays)
        except ValueError:
            raise ValueError("HOTLINE_HOLIDAYS must be ISO dates separated by commas") from None

    @property
    def calling(self) -> tuple[time, time]:
        return _parse_hours(self.call_hours)

    @property
    def notice_calling(self) -> tuple[time, time]:
        """Hours in which voice notices may ring (calls nobody asked for)."""
        return _parse_hours(self.notice_call_hours)

    @property
    def signatures_required(self) -> bool:
        """Twilio signature checks are on whenever an auth token is set."""
        return bool(self.twilio_auth_token)
