"""The auth service: one-time codes and digital-signature login, short-lived EdDSA access
tokens, and the public keys that verify them (API.md "Auth service")."""
