"""Settings fail fast: a missing or invalid variable is named, never replaced by a default."""

from __future__ import annotations

import pytest

from ledgerline import settings as env
from ledgerline.settings import SettingsError, load_settings

MINIMAL = {env.TABLE: "records"}


def test_the_records_table_is_required():
    with pytest.raises(SettingsError, match=env.TABLE):
        load_settings({})
    with pytest.raises(SettingsError, match=env.TABLE):
        load_settings({env.TABLE: ""})


def test_every_invalid_value_is_named():
    with pytest.raises(SettingsError) as refused:
        load_settings({**MINIMAL, env.MAX_WRITE_ATTEMPTS: "many", env.WORKER_MAX_ATTEMPTS: "0"})
    assert env.MAX_WRITE_ATTEMPTS in str(refused.value) and env.WORKER_MAX_ATTEMPTS in str(refused.value)


def test_a_name_a_function_needs_is_named_when_unset():
    settings = load_settings({**MINIMAL, env.EVENT_BUS: ""})
    for field, variable in (("idempotency_table", env.IDEMPOTENCY_TABLE), ("event_bus_name", env.EVENT_BUS),
                            ("worker_dlq_url", env.WORKER_DLQ_URL)):
        with pytest.raises(SettingsError, match=variable):
            settings.need(field)


def test_values_are_read_from_their_variables():
    settings = load_settings({**MINIMAL, env.IDEMPOTENCY_TABLE: "idem", env.PROBLEM_BASE: "https://example.test/",
                              env.MAX_WRITE_ATTEMPTS: "5", env.EVENT_BUS: "bus"})
    assert settings.records_table == "records" and settings.need("idempotency_table") == "idem"
    assert settings.problem_base == "https://example.test" and settings.max_write_attempts == 5
    assert settings.need("event_bus_name") == "bus" and settings.cursor_secret is None


def test_a_cursor_without_a_signing_key_names_both_variables(monkeypatch):
    from ledgerline.api import cursor
    from ledgerline.settings import get_settings

    monkeypatch.delenv(env.CURSOR_SECRET, raising=False)
    monkeypatch.delenv(env.CURSOR_SECRET_ARN, raising=False)
    get_settings.cache_clear()
    try:
        with pytest.raises(SettingsError, match=f"{env.CURSOR_SECRET} or {env.CURSOR_SECRET_ARN}"):
            cursor.encode("t1", "clients", {}, {"PK": {"S": "x"}})
    finally:
        get_settings.cache_clear()
