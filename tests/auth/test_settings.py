"""Configuration: what production refuses, and the bounds on lifetimes."""
from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.auth.app import load_settings
from services.common.settings import ConfigError, Env

from .keys import pem

BASE = {"DATABASE_URL": "postgresql://x/y", "REDIS_URL": "redis://x"}
DEVELOPMENT = {**BASE, "BALLOTLINE_ENV": "development"}
PRODUCTION = {
    **BASE,
    "BALLOTLINE_ENV": "production",
    "AUTH_SECRET_KEY": "p" * 32,
    "AUTH_SIGNING_KEY": pem(Ed25519PrivateKey.generate()),
    "AUTH_SMS_WEBHOOK_URL": "https://sms.example/send",
}


def test_production_starts_with_a_webhook_sender_by_default():
    settings = load_settings(Env(PRODUCTION))
    assert settings.sender == "webhook" and settings.webhook.url == "https://sms.example/send"
    assert settings.common.port == 8001


@pytest.mark.parametrize("sender", ["outbox", "console"])
def test_production_refuses_development_senders(sender):
    with pytest.raises(ConfigError, match="AUTH_SMS_SENDER"):
        load_settings(Env({**PRODUCTION, "AUTH_SMS_SENDER": sender}))


@pytest.mark.parametrize("missing", ["AUTH_SECRET_KEY", "AUTH_SIGNING_KEY", "AUTH_SMS_WEBHOOK_URL"])
def test_production_refuses_to_start_without(missing):
    with pytest.raises(ConfigError, match=missing):
        load_settings(Env({k: v for k, v in PRODUCTION.items() if k != missing}))


def test_without_ballotline_env_a_service_is_in_production_and_refuses_to_start_without_secrets():
    with pytest.raises(ConfigError, match="AUTH_SECRET_KEY is required in production"):
        load_settings(Env(BASE))
    settings = load_settings(Env({k: v for k, v in PRODUCTION.items() if k != "BALLOTLINE_ENV"}))
    assert settings.common.production and settings.sender == "webhook"


def test_development_defaults_to_the_outbox_and_ephemeral_keys():
    settings = load_settings(Env(DEVELOPMENT))
    assert settings.sender == "outbox" and settings.secret_key is None and settings.signing_key is None
    assert (settings.token_ttl, settings.otp_ttl, settings.issuer) == (600, 300, "ballotline-auth")
    assert settings.rates.challenge_per_voter.limit == 3 and settings.rates.challenge_per_voter.window == 600


@pytest.mark.parametrize(
    "env, message",
    [
        ({"AUTH_TOKEN_TTL": "901"}, "AUTH_TOKEN_TTL"),
        ({"AUTH_TOKEN_TTL": "0"}, "AUTH_TOKEN_TTL"),
        ({"AUTH_OTP_TTL": "301"}, "AUTH_OTP_TTL"),
        ({"AUTH_SECRET_KEY": "short"}, "32 characters"),
        ({"AUTH_SIGNING_KEY": "not a pem"}, "AUTH_SIGNING_KEY"),
        ({"AUTH_SIGNING_KEY_FILE": "/nonexistent/key.pem"}, "AUTH_SIGNING_KEY_FILE"),
        ({"AUTH_SMS_SENDER": "pigeon"}, "AUTH_SMS_SENDER"),
        ({"AUTH_TRUSTED_PROXIES": "10.0.0.0/8, proxy.local"}, "AUTH_TRUSTED_PROXIES"),
        ({"AUTH_RATE_VERIFY_PER_ADDRESS": "-1"}, "AUTH_RATE_VERIFY_PER_ADDRESS"),
    ],
)
def test_bad_values_are_refused_naming_the_variable(env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(Env({**DEVELOPMENT, **env}))


def test_a_non_ed25519_signing_key_is_refused(tmp_path):
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    key = ec.generate_private_key(ec.SECP256R1()).private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    (tmp_path / "ec.pem").write_bytes(key)
    with pytest.raises(ConfigError, match="Ed25519"):
        load_settings(Env({**DEVELOPMENT, "AUTH_SIGNING_KEY_FILE": str(tmp_path / "ec.pem")}))


def test_secrets_do_not_show_in_the_settings_repr():
    assert "p" * 32 not in repr(load_settings(Env(PRODUCTION)))
