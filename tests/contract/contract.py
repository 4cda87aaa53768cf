"""Holds real HTTP responses to a service's OpenAPI document: the status is documented
for the operation, required headers are there and match their schemas, the media type
is the documented one and the body validates (JSON Schema 2020-12, the document's $refs
resolved against the document itself)."""
from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import ClientResponse
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

_URI = "urn:ballotline:openapi"
_FORMATS = Draft202012Validator.FORMAT_CHECKER


def _pointer(*parts: str) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _template_pattern(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$")


class Contract:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self._registry = Registry().with_resource(
            _URI, Resource.from_contents(document, default_specification=DRAFT202012)
        )
        self._templates = [(t, _template_pattern(t)) for t in document["paths"]]
        self.seen: set[tuple[str, str, int]] = set()  # (METHOD, template, status)

    def template_of(self, path: str) -> str:
        matches = [t for t, pattern in self._templates if pattern.match(path)]
        assert matches, f"{path} matches no documented path"
        return min(matches, key=lambda t: t.count("{"))  # a literal segment wins over a parameter

    def validate(self, value: Any, pointer: str, what: str) -> None:
        validator = Draft202012Validator({"$ref": _URI + "#" + pointer}, registry=self._registry,
                                         format_checker=_FORMATS)
        error = best_match(validator.iter_errors(value))
        assert error is None, f"{what}: {error.message} at {list(error.absolute_path)}; value: {value!r:.500}"

    async def check(self, response: ClientResponse, *, stream: bool = False) -> Any:
        """Assert `response` is documented; return its decoded JSON body (or None)."""
        method, template, status = response.method.upper(), self.template_of(response.url.path), response.status
        what = f"{method} {template} -> {status}"
        operation = self.document["paths"][template].get(method.lower())
        assert operation is not None, f"{method} {template} is not documented"
        documented = operation["responses"].get(str(status))
        assert documented is not None, f"{what} is not a documented status; body: {await response.text()!r:.500}"
        self.seen.add((method, template, status))
        base = ("paths", template, method.lower(), "responses", str(status))
        for name, header in documented.get("headers", {}).items():
            self._check_header(response, name, self._resolve(header), what)
        content = documented.get("content")
        if not content:
            assert not stream and await response.read() == b"", f"{what} documents no body"
            return None
        assert response.content_type in content, f"{what}: {response.content_type} is not in {sorted(content)}"
        if stream or not response.content_type.endswith("json"):
            return None
        body = json.loads(await response.read())
        self.validate(body, _pointer(*base, "content", response.content_type, "schema"), what)
        return body

    def _check_header(self, response: ClientResponse, name: str, header: dict, what: str) -> None:
        value = response.headers.get(name)
        if value is None:
            assert not header.get("required"), f"{what}: the required header {name} is missing"
            return
        schema = header.get("schema", {})
        parsed: Any = int(value) if schema.get("type") == "integer" and value.isdigit() else value
        Draft202012Validator(schema, format_checker=_FORMATS).validate(parsed)

    def _resolve(self, node: dict) -> dict:
        if "$ref" not in node:
            return node
        return self._registry.resolver(_URI).lookup(node["$ref"]).contents
