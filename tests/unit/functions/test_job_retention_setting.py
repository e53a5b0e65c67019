"""AUTHLIB_JOB_RETENTION: how long finished scheduled jobs are kept (seconds, at least a minute, or 'off')."""

from __future__ import annotations

import pytest

from authlib_core.config import ENV_VARS, MIN_JOB_RETENTION, Settings
from authlib_core.errors import ConfigError
from authlib_core.scheduler.retention import DEFAULT_RETENTION_S


def retention(value: str) -> int | None:
    return Settings.from_env({"AUTHLIB_JOB_RETENTION": value}).job_retention


def test_the_default_is_convex_s_seven_days() -> None:
    assert Settings.from_env({}).job_retention == DEFAULT_RETENTION_S == 7 * 86_400
    assert Settings().job_retention == DEFAULT_RETENTION_S
    assert retention("  ") == DEFAULT_RETENTION_S
    assert "AUTHLIB_JOB_RETENTION" in ENV_VARS


@pytest.mark.parametrize(("raw", "seconds"), [("86400", 86_400), (" 3600 ", 3600), (str(MIN_JOB_RETENTION), 60)])
def test_whole_seconds_of_at_least_a_minute(raw: str, seconds: int) -> None:
    assert retention(raw) == seconds


@pytest.mark.parametrize("raw", ["off", "OFF", " Off "])
def test_off_keeps_finished_jobs(raw: str) -> None:
    assert retention(raw) is None


@pytest.mark.parametrize("raw", ["59", "0", "-5", "7d", "1.5", "forever", "1e6"])
def test_anything_else_is_refused_with_what_to_set(raw: str) -> None:
    with pytest.raises(ConfigError) as caught:
        retention(raw)
    message = str(caught.value)
    assert message.startswith("AUTHLIB_JOB_RETENTION is ")
    assert raw.strip() in message
    assert "at least 60" in message
    assert "'off'" in message
    assert "604800" in message
