"""CloudFormation's query protocol, from the botocore model: form parameters in, XML out, errors as query errors.

The shapes (member names, `member` list items, ISO 8601 timestamps) come from
the CloudFormation service model that botocore ships (cloudformation/2010-05-15),
so every answer parses in any SDK exactly as the real service's.
"""

from __future__ import annotations

import datetime
import functools
import uuid
from typing import Any
from xml.sax.saxutils import escape

from localcloud import protocols

NAMESPACE = "http://cloudformation.amazonaws.com/doc/2010-05-15/"


class ApiError(Exception):
    """An error CloudFormation answers: (HTTP status, code, message)."""

    def __init__(self, message: str, code: str = "ValidationError", status: int = 400):
        super().__init__(message)
        self.message, self.code, self.status = message, code, status


@functools.cache
def model() -> Any:
    from localcloud.modelvalidation import service_model

    return service_model("cloudformation")


def parse(operation: str, params: dict[str, str]) -> dict[str, Any]:
    shape = model().operation_model(operation).input_shape
    return _parse(shape, params, "") or {} if shape is not None else {}


def _parse(shape: Any, params: dict[str, str], prefix: str) -> Any:
    kind = shape.type_name
    if kind == "structure":
        out = {}
        for name, member in shape.members.items():
            key = (prefix + "." if prefix else "") + member.serialization.get("name", name)
            if key in params or any(k.startswith(key + ".") for k in params):
                value = _parse(member, params, key)
                if value is not None:
                    out[name] = value
        return out
    if kind == "list":
        items = []
        index = 1
        base = prefix if shape.serialization.get("flattened") else prefix + ".member"
        if prefix in params and params[prefix] == "":
            return []
        while f"{base}.{index}" in params or any(k.startswith(f"{base}.{index}.") for k in params):
            items.append(_parse(shape.member, params, f"{base}.{index}"))
            index += 1
        return items
    if kind == "map":
        out_map = {}
        index = 1
        while f"{prefix}.entry.{index}.key" in params:
            out_map[params[f"{prefix}.entry.{index}.key"]] = _parse(shape.value, params, f"{prefix}.entry.{index}.value")
            index += 1
        return out_map
    raw = params.get(prefix)
    if raw is None:
        return None
    if kind == "boolean":
        return raw.lower() == "true"
    if kind in ("integer", "long"):
        try:
            return int(raw)
        except ValueError:
            raise ApiError(f"1 validation error detected: Value '{raw}' at '{prefix}' failed to satisfy constraint: Member must be a number") from None
    return raw


def render(operation: str, result: dict[str, Any] | None) -> tuple[int, list[tuple[str, str]], bytes]:
    request_id = str(uuid.uuid4())
    shape = model().operation_model(operation).output_shape
    inner = ""
    if shape is not None:
        inner = f"<{operation}Result>{_xml(shape, result or {})}</{operation}Result>"
    body = (f'<{operation}Response xmlns="{NAMESPACE}">{inner}'
            f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{operation}Response>").encode()
    return 200, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id), ("Content-Length", str(len(body)))], body


def _xml(shape: Any, value: Any) -> str:
    kind = shape.type_name
    if kind == "structure":
        parts = []
        for name, member in shape.members.items():
            if name in value and value[name] is not None:
                tag = member.serialization.get("name", name)
                parts.append(f"<{tag}>{_xml(member, value[name])}</{tag}>")
        return "".join(parts)
    if kind == "list":
        return "".join(f"<member>{_xml(shape.member, item)}</member>" for item in value)
    if kind == "map":
        return "".join(f"<entry><key>{escape(str(k))}</key><value>{_xml(shape.value, v)}</value></entry>" for k, v in value.items())
    if kind == "timestamp":
        if isinstance(value, datetime.datetime):
            value = value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
        return escape(str(value))
    if kind == "boolean":
        return "true" if value else "false"
    return escape(str(value))


def error(err: ApiError) -> tuple[int, list[tuple[str, str]], bytes]:
    return protocols.render_error("cloudformation", err.status, err.code, err.message)
