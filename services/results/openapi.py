"""The results service's OpenAPI document (API.md "Results service"). The election
shapes come from public.py's wire types; the snapshot is a plain dict built by
snapshot.py, so its schema is written here, next to the contract it states."""
from __future__ import annotations

from services.common.openapi import RFC3339, Json, document, json_response, operation, problem, ref, wire_schemas

from .public import ElectionSummary, PublicElection

_COUNT = {"type": "integer", "minimum": 0}
_PERCENT = {"type": "number", "minimum": 0, "maximum": 100}


def _object(properties: Json, *optional: str) -> Json:
    required = [name for name in properties if name not in optional]
    return {"type": "object", "properties": properties, "required": required}


_SEATS_ONLY = "Contests with seats, in the election total only."
_OPTION = _object({"option_id": {"type": "string"}, "votes": _COUNT, "percent": _PERCENT,
                   "passes_threshold": {"type": "boolean", "description": _SEATS_ONLY},
                   "seats": {**_COUNT, "description": _SEATS_ONLY}},
                  "passes_threshold", "seats")
_CONTEST = _object({"contest_id": {"type": "string"},
                    "eligible": {**_COUNT, "description": "The roll of the contest's precincts within the scope."},
                    "ballots": _COUNT, "abstentions": _COUNT,
                    "options": {"type": "array", "items": _OPTION},
                    "seats": {**_COUNT, "description": _SEATS_ONLY},
                    "tie_broken": {"type": "boolean", "description": "A tie decided a seat. " + _SEATS_ONLY}},
                   "seats", "tie_broken")
SNAPSHOT = _object(
    {
        "election_id": {"type": "string"},
        "precinct_id": {"type": "string", "description": "Precinct snapshots only."},
        "version": {"type": "integer", "minimum": 0, "description": "Only grows; 0 before the first publication."},
        "as_of": RFC3339,
        "previous_digest": {
            "type": ["string", "null"], "pattern": "^sha256:[0-9a-f]{64}$",
            "description": "The digest published before this one in the same scope (null for the first); covered by `digest`.",
        },
        "status": {"enum": ["scheduled", "open", "closed", "certified"]},  # scheduled: added in 0.1.0 (README changelog)
        "turnout": _object({"eligible": _COUNT, "voted": _COUNT, "percent": _PERCENT}),
        "precincts_reporting": _COUNT,
        "precincts_total": _COUNT,
        "contests": {"type": "array", "items": _CONTEST},
        "digest": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"},
    },
    "precinct_id",
)
RECEIPT_STATUS = _object({"receipt_id": {"type": "string"},
                          "status": {"enum": ["counted", "superseded", "annulled"]}})

_HASH = {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"}
AUDIT_ENTRY = _object({
    "seq": {"type": "integer", "minimum": 1}, "at": RFC3339, "actor": {"type": "string"},
    "action": {"type": "string", "description": "election.create, roll.import, election.open, election.close,"
               " election.extend, election.policy, ..."},
    "reason": {"type": ["string", "null"]}, "details": {"type": "object"}, "prev_hash": _HASH, "hash": _HASH,
})
AUDIT_LOG = _object({"election_id": {"type": "string"},
                     "head": {**_HASH, "description": "The last entry's hash."},
                     "entries": {"type": "array", "items": ref("AuditEntry")}})

_CACHE_CONTROL = {"Cache-Control": {"required": True, "schema": {"type": "string"}}}
_ETAG = {
    "description": "The quoted version; absent on version 0, the zero snapshot before the first publication.",
    "schema": {"type": "string", "pattern": '^"[0-9]+"$'},
}
_IF_NONE_MATCH = {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"}}
_NOT_READY = "results_not_ready"


def _path(*names: str) -> list[Json]:
    return [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}} for n in names]


def _snapshot(operation_id: str, summary: str, schema: str, *, precinct: bool = False) -> Json:
    not_found = ("election_not_found", "precinct_not_found") if precinct else ("election_not_found",)
    params = _path("election_id", "precinct_id") if precinct else _path("election_id")
    return {"get": operation(operation_id, summary, {
        "200": json_response("The latest snapshot.", ref(schema), headers={"ETag": _ETAG, **_CACHE_CONTROL}),
        "304": {"description": "Not modified (If-None-Match).",
                "headers": {"ETag": {**_ETAG, "required": True}, **_CACHE_CONTROL}},
        **problem(404, "Unknown election or precinct.", *not_found),
        **problem(503, "Results are being loaded.", _NOT_READY, retry_after=True),
    }, parameters=[*params, _IF_NONE_MATCH])}


_STREAM = operation("streamResults", "Server-sent events: an event `results` carrying each new snapshot.", {
    "200": json_response("`event: results`, `id: <version>`, `data: <snapshot>`; the schema is one event.", {
        "type": "object",
        "required": ["data"],
        "properties": {
            "event": {"const": "results"},
            "id": {"type": "string", "pattern": "^[0-9]+$"},
            "retry": {"type": "integer"},
            "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": ref("Snapshot")},
        },
    }, media_type="text/event-stream"),
    **problem(404, "Unknown election.", "election_not_found"),
    **problem(503, "Loading, or shutting down.", _NOT_READY, "shutting_down", retry_after=True),
}, parameters=[*_path("election_id"), {"name": "Last-Event-ID", "in": "header", "schema": {"type": "string"}}])

_RECEIPT = operation("receiptStatus", "Where a receipt's ballot stands.", {
    "200": json_response("Its status.", ref("ReceiptStatus")),
    **problem(404, "Unknown election or receipt.", "election_not_found", "receipt_not_found"),
    **problem(503, "Too many receipt lookups at once.", "overloaded", retry_after=True),
}, parameters=_path("election_id", "receipt_id"))


_AUDIT = operation("auditLog", "The election's append-only, hash-chained audit log.", {
    "200": json_response("Every entry, oldest first, and the head.", ref("AuditLog")),
    **problem(404, "Unknown election.", "election_not_found"),
}, parameters=_path("election_id"))


def openapi_document(*, port: int) -> Json:
    paths = {
        "/v1/elections": {"get": operation("listElections", "Every election.", {
            "200": json_response("Summaries.", {"type": "array", "items": ref("ElectionSummary")},
                                 headers=_CACHE_CONTROL),
        })},
        "/v1/elections/{election_id}": {"get": operation("getElection", "The public definition.", {
            "200": json_response("Contests, options, rules, precincts.", ref("PublicElection"), headers=_CACHE_CONTROL),
            **problem(404, "Unknown election.", "election_not_found"),
        }, parameters=_path("election_id"))},
        "/v1/elections/{election_id}/results": _snapshot("getResults", "The latest results snapshot.", "Snapshot"),
        "/v1/elections/{election_id}/results/precincts/{precinct_id}": _snapshot(
            "getPrecinctResults", "The latest snapshot of one precinct.", "PrecinctSnapshot", precinct=True),
        "/v1/elections/{election_id}/results/stream": {"get": _STREAM},
        "/v1/elections/{election_id}/receipts/{receipt_id}": {"get": _RECEIPT},
        "/v1/elections/{election_id}/audit": {"get": _AUDIT},
    }
    schemas = {
        **wire_schemas(outputs=(ElectionSummary, PublicElection)),
        "Snapshot": SNAPSHOT,
        "PrecinctSnapshot": {"allOf": [ref("Snapshot"), {"required": ["precinct_id"]}]},
        "ReceiptStatus": RECEIPT_STATUS,
        "AuditEntry": AUDIT_ENTRY,
        "AuditLog": AUDIT_LOG,
    }
    return document("Ballotline results service", "Read side: elections, results snapshots, receipt status.",
                    paths, schemas, port=port)
