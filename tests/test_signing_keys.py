"""Signing keys as auth and vote load them: every mistake is a configuration error that
names the variable, before the service starts."""
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.common.settings import ConfigError, Env
from services.common.signing_keys import load_private_key, public_jwk


def _pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def test_a_key_is_read_from_the_file_variable_before_the_text_variable(tmp_path):
    in_file, in_text = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    (tmp_path / "k.pem").write_text(_pem(in_file))
    env = Env({"VOTE_SIGNING_KEY_FILE": str(tmp_path / "k.pem"), "VOTE_SIGNING_KEY": _pem(in_text)})
    loaded = load_private_key(env, "VOTE_SIGNING_KEY")
    assert public_jwk(loaded.public_key()) == public_jwk(in_file.public_key())
    assert load_private_key(Env({}), "VOTE_SIGNING_KEY") is None


@pytest.mark.parametrize(
    "env, message",
    [
        ({"VOTE_SIGNING_KEY": "not a pem"}, "VOTE_SIGNING_KEY is not an unencrypted PEM"),
        ({"VOTE_SIGNING_KEY": _pem(generate_private_key(SECP256R1()))}, "VOTE_SIGNING_KEY must be an Ed25519 key"),
        ({"VOTE_SIGNING_KEY_FILE": "/nonexistent/key.pem"}, "VOTE_SIGNING_KEY_FILE: cannot read"),
    ],
)
def test_a_bad_signing_key_is_a_configuration_error_naming_the_variable(env, message):
    with pytest.raises(ConfigError, match=message):
        load_private_key(Env(env), "VOTE_SIGNING_KEY")
