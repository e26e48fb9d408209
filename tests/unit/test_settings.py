from __future__ import annotations

import ssl

import pytest

from wirewatch.streams.settings import Settings, SettingsError
from wirewatch.streams.transport import broker_credentials


def test_defaults_without_environment() -> None:
    settings = Settings.from_env({})
    assert settings.broker == ""
    assert settings.partitions == 4
    assert settings.topic("news.raw") == "news.raw"
    assert settings.security_protocol == "PLAINTEXT"
    assert settings.aiokafka_security() == {"security_protocol": "PLAINTEXT"}
    assert broker_credentials(settings) is None
    assert settings.parse == "full"


def test_environment_is_read_and_converted() -> None:
    settings = Settings.from_env(
        {
            "WIREWATCH_BROKER": "kafka://a:9092;b:9093",
            "WIREWATCH_TOPIC_PREFIX": "staging.",
            "WIREWATCH_PARTITIONS": "8",
            "WIREWATCH_WEB_PORT": "7000",
            "WIREWATCH_MAX_ARTICLE_BYTES": "50_000",
            "WIREWATCH_ALERT_NON_STATE_ROCKETS": "yes",
            "WIREWATCH_DATA_DIR": "/tmp/ww-data",
        }
    )
    assert settings.bootstrap_servers == ["a:9092", "b:9093"]
    assert settings.faust_broker == "kafka://a:9092;kafka://b:9093"
    assert settings.topic("news.alerts") == "staging.news.alerts"
    assert (settings.partitions, settings.web_port, settings.max_article_bytes) == (8, 7000, 50_000)
    assert settings.alert_non_state_rockets is True
    assert str(settings.data_path) == "/tmp/ww-data"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WIREWATCH_PARTITIONS", "many"),
        ("WIREWATCH_PARTITIONS", "0"),
        ("WIREWATCH_ALERT_NON_STATE_ROCKETS", "perhaps"),
        ("WIREWATCH_SECURITY_PROTOCOL", "TLS"),
        ("WIREWATCH_MAX_ARTICLE_BYTES", "10"),
        ("WIREWATCH_PARSE", "partial"),
    ],
)
def test_bad_values_are_clear_errors(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_sasl_ssl_is_passed_through() -> None:
    settings = Settings.from_env(
        {
            "WIREWATCH_SECURITY_PROTOCOL": "sasl_ssl",
            "WIREWATCH_SASL_MECHANISM": "scram-sha-512",
            "WIREWATCH_SASL_USERNAME": "ww",
            "WIREWATCH_SASL_PASSWORD": "secret",
        }
    )
    opts = settings.aiokafka_security()
    assert opts["security_protocol"] == "SASL_SSL"
    assert opts["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (opts["sasl_plain_username"], opts["sasl_plain_password"]) == ("ww", "secret")
    assert isinstance(opts["ssl_context"], ssl.SSLContext)
    creds = broker_credentials(settings)
    assert creds.username == "ww" and creds.ssl_context is not None
    assert "secret" not in repr(settings)


def test_severity_map_is_parsed_and_checked() -> None:
    settings = Settings.from_env({"WIREWATCH_SEVERITY_MAP": '{"cruise": "high", "srbm": {"occurred": "critical"}}'})
    assert settings.severity_mapping() == {"cruise": "high", "srbm": {"occurred": "critical"}}
    with pytest.raises(SettingsError, match="WIREWATCH_SEVERITY_MAP"):
        Settings.from_env({"WIREWATCH_SEVERITY_MAP": '{"cruise": "extreme"}'})
    with pytest.raises(SettingsError, match="WIREWATCH_SEVERITY_MAP"):
        Settings.from_env({"WIREWATCH_SEVERITY_MAP": "cruise=high"})


def test_severity_map_reaches_the_detector() -> None:
    from wirewatch.agents.enrich import detector_config

    config = detector_config(Settings(severity_map='{"cruise": "critical"}', alert_non_state_rockets=True))
    assert config.severity("cruise", "possible") == "critical"
    assert config.severity("icbm", "occurred") == "critical"  # unmapped kinds follow the taxonomy
    assert config.alert_non_state_rockets is True


async def test_fetch_wait_reaches_the_faust_consumer() -> None:
    """faust-streaming fixes fetch_max_wait_ms=1500; wirewatch's transport applies the setting instead."""
    from wirewatch.streams.app import create_pipeline

    pipeline = create_pipeline(Settings(broker="kafka://127.0.0.1:1", fetch_max_wait_ms=35))
    thread = pipeline.app.consumer._new_consumer_thread()
    consumer = thread._create_worker_consumer(pipeline.app.transport)
    assert consumer._fetch_max_wait_ms == 35
