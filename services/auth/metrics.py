"""The auth service's Prometheus counters (HTTP metrics per route come from base_app).

Delivery counters move only for real voters: /metrics must not be reachable from the
internet, or a quiet-hour scrape would tell real voters from decoys.
"""
from prometheus_client import Counter

CHALLENGES_REQUESTED = Counter(
    "ballotline_auth_challenges_requested_total", "Login challenges answered (codes or nonces).", ["method"]
)
CODES_SENT = Counter("ballotline_auth_codes_sent_total", "One-time codes handed to the sender.", ["sender"])
DELIVERY_FAILURES = Counter(
    "ballotline_auth_code_delivery_failures_total", "Codes the sender failed to deliver after retries.", ["sender"]
)
VERIFICATIONS = Counter(
    "ballotline_auth_verifications_total", "Challenge verifications by outcome.", ["method", "outcome"]
)
RATE_LIMITED = Counter("ballotline_auth_rate_limited_total", "Requests refused by a rate limit.", ["limit"])
TOKENS_ISSUED = Counter("ballotline_auth_tokens_issued_total", "Access tokens issued.", ["method"])
