"""OpenAPI 3.1 building blocks every service shares (API.md "Conventions"): the
problem+json schema, common responses and headers, component schemas generated from the
msgspec wire types (so the document cannot drift from the code), the operator endpoints,
and the GET /openapi.json route serving a document encoded once at start-up.

Each service describes its own routes in `services/<service>/openapi.py`; `document()`
adds what every operation shares: the X-Request-Id header on every response, the generic
500, and /healthz, /readyz, /openapi.json (/metrics is on the internal listener).
"""
from __future__ import annotations

import copy
from importlib import metadata
from typing import Any

import msgspec
from aiohttp import web

Json = dict[str, Any]
JSON = "application/json"
PROBLEM = "application/problem+json"
OPENAPI_PATH = "/openapi.json"
_REF = "#/components/schemas/{name}"


def ref(name: str) -> Json:
    return {"$ref": _REF.format(name=name)}


PROBLEM_SCHEMA: Json = {
    "type": "object",
    "description": "RFC 9457 problem details. Clients switch on `code`; `detail` is for people.",
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        "detail": {"type": "string"},
    },
    "required": ["type", "title", "status", "code"],
}

JWK_SET_SCHEMA: Json = {
    "type": "object",
    "description": "Public Ed25519 keys (RFC 8037 OKP JWKs).",
    "properties": {
        "keys": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "kty": {"const": "OKP"},
                    "crv": {"const": "Ed25519"},
                    "x": {"type": "string", "description": "base64url of the raw 32-byte public key"},
                    "kid": {"type": "string"},
                    "alg": {"const": "EdDSA"},
                    "use": {"const": "sig"},
                },
                "required": ["kty", "crv", "x", "kid"],
            },
        }
    },
    "required": ["keys"],
}

RFC3339 = {"type": "string", "format": "date-time"}
_SECONDS = {"type": "integer", "minimum": 1}
_HEADERS: Json = {
    "RequestId": {
        "description": "The request's X-Request-Id when it sent one (1..128 visible ASCII), else a generated one.",
        "required": True,
        "schema": {"type": "string", "minLength": 1},
    },
    "RetryAfter": {"description": "Seconds to wait before retrying.", "required": True, "schema": _SECONDS},
}
_PARAMETERS: Json = {
    "RequestId": {
        "name": "X-Request-Id",
        "in": "header",
        "required": False,
        "description": (
            "Echoed on the response and written in the logs when it is 1..128 visible ASCII"
            " characters; any other value is ignored (never refused) and a new id generated."
        ),
        "schema": {"type": "string"},
    }
}


def json_response(description: str, schema: Json, *, media_type: str = JSON, headers: Json | None = None) -> Json:
    response: Json = {"description": description, "content": {media_type: {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def problem(status: int, description: str, *codes: str, retry_after: bool | str = False,
            headers: Json | None = None) -> Json:
    """`{"<status>": response}` for a problem+json answer whose `code` is one of `codes`.
    `retry_after=True`: always with Retry-After; a string: only in the case it describes."""
    schema = {"allOf": [ref("Problem"), {"properties": {"status": {"const": status}, "code": {"enum": list(codes)}}}]}
    headers = dict(headers or {})
    if retry_after is True:
        headers["Retry-After"] = {"$ref": "#/components/headers/RetryAfter"}
    elif retry_after:
        headers["Retry-After"] = {"description": retry_after, "schema": _SECONDS}
    return {str(status): json_response(description, schema, media_type=PROBLEM, headers=headers)}


BODY_TOO_LARGE = problem(413, "The request body is over 16 KiB.", "body_too_large")
_INTERNAL = problem(500, "An unexpected error; it has been logged.", "internal_error")
_DEPENDENCY = problem(503, "Postgres or Redis is saturated or unreachable; retry.", "dependency_unavailable", retry_after=True)
_STATUS = {"type": "object", "properties": {"status": {"type": "string"}}, "required": ["status"]}


def operation(operation_id: str, summary: str, responses: Json, **extra: Any) -> Json:
    return {"operationId": operation_id, "summary": summary, **extra, "responses": responses}


def _operator_paths() -> Json:
    ready = {"200": json_response("Ready.", _STATUS), **problem(503, "Not ready.", "not_ready", retry_after=True)}
    return {
        "/healthz": {"get": operation("healthz", "Process alive (no dependency checked).",
                                      {"200": json_response("Alive.", _STATUS)})},
        "/readyz": {"get": operation("readyz", "Dependencies answer and not shutting down.", ready)},
        OPENAPI_PATH: {"get": operation("openapi", "This document.",
                                        {"200": json_response("OpenAPI 3.1.", {"type": "object"})})},
    }


def wire_schemas(*, inputs: tuple[type, ...] = (), outputs: tuple[type, ...] = ()) -> Json:
    """Component schemas of msgspec wire types. Outputs are encoded with every field
    (msgspec writes defaults too unless a struct sets omit_defaults), so all are required."""
    _, schemas = msgspec.json.schema_components(inputs, ref_template=_REF)
    _, out = msgspec.json.schema_components(outputs, ref_template=_REF)
    for name, cls in _structs(outputs).items():
        if not cls.__struct_config__.omit_defaults:
            out[name]["required"] = list(out[name]["properties"])
    clash = {name for name in schemas.keys() & out.keys() if schemas[name] != out[name]}
    assert not clash, f"input and output wire types share names: {clash}"
    return {**schemas, **out}


def _structs(types: tuple[type, ...]) -> dict[str, type]:
    """Every Struct class reachable from `types`, by the name of its component."""
    found: dict[str, type] = {}
    stack: list[Any] = list(msgspec.inspect.multi_type_info(types))
    while stack:
        info = stack.pop()
        if isinstance(info, msgspec.inspect.StructType):
            if info.cls.__name__ not in found:
                found[info.cls.__name__] = info.cls
                stack.extend(f.type for f in info.fields)
            continue
        for value in msgspec.structs.astuple(info):  # containers, unions, metadata: look inside
            items = value if isinstance(value, tuple) else (value,)
            stack.extend(v for v in items if isinstance(v, msgspec.inspect.Type))
    return found


def document(title: str, description: str, paths: Json, schemas: Json, *, port: int, security: Json | None = None) -> Json:
    """The service's whole document: its own paths plus what every operation shares."""
    paths = copy.deepcopy({**paths, **_operator_paths()})
    for item in paths.values():
        for operation in item.values():
            operation.setdefault("parameters", []).append({"$ref": "#/components/parameters/RequestId"})
            for status, shared, code in (("500", _INTERNAL, "internal_error"), ("503", _DEPENDENCY, "dependency_unavailable")):
                if status in operation["responses"]:  # a service-specific answer: add the shared code
                    codes = operation["responses"][status]["content"][PROBLEM]["schema"]["allOf"][1]["properties"]["code"]
                    codes["enum"] = [*codes.get("enum", []), code]
                else:
                    operation["responses"].update(copy.deepcopy(shared))
            for response in operation["responses"].values():
                response.setdefault("headers", {})["X-Request-Id"] = {"$ref": "#/components/headers/RequestId"}
    components: Json = {
        "schemas": {"Problem": PROBLEM_SCHEMA, **schemas},
        "headers": _HEADERS,
        "parameters": _PARAMETERS,
    }
    if security:
        components["securitySchemes"] = security
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": metadata.version("ballotline"), "description": description},
        "servers": [{"url": f"http://localhost:{port}"}],
        "paths": paths,
        "components": components,
    }


def serve_openapi(app: web.Application, doc: Json) -> None:
    """GET /openapi.json answering with `doc`, encoded once, now."""
    body = msgspec.json.encode(doc)

    async def openapi(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type=JSON, headers={"Cache-Control": "public, max-age=300"})

    app.router.add_get(OPENAPI_PATH, openapi)
