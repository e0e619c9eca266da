"""Validate a request against the botocore API model, the way the real service does.

The SDKs check little on the client (botocore: required and min; the Rust SDK:
required only), so the service itself answers a bad member with its
validation error. Messages follow AWS's wording ("1 validation error
detected: Value 'x' at 'configurationName' failed to satisfy constraint:
...") and always name the member. Values of sensitive members (a Chime
WebhookUrl) are never echoed back.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import botocore.loaders
import botocore.model


class ServiceError(Exception):
    """An error answered to the client: an error shape name of the model and a message."""

    def __init__(self, code: str, message: str, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@functools.cache
def service_model(name: str) -> botocore.model.ServiceModel:
    loader = botocore.loaders.create_loader()
    return botocore.model.ServiceModel(loader.load_service_model(name, "service-2"), name)


@functools.cache
def _pattern(expr: str) -> re.Pattern[str]:
    # AWS validates patterns against the whole value (Java's Matcher.matches).
    return re.compile(expr)


def _lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]


_TYPE_NAMES = {
    "string": str,
    "list": list,
    "structure": dict,
    "map": dict,
    "boolean": bool,
}


class _Collector:
    def __init__(self) -> None:
        self.constraint: list[str] = []
        self.serialization: list[str] = []

    def value_text(self, shape: botocore.model.Shape, value: Any) -> str:
        if shape.metadata.get("sensitive"):
            return "Value"
        if value is None:
            return "Value null"
        if isinstance(value, list):
            return "Value '[" + ", ".join(str(v) for v in value) + "]'"
        return f"Value '{value}'"

    def fail(self, shape: botocore.model.Shape, value: Any, path: str, rule: str) -> None:
        self.constraint.append(
            f"{self.value_text(shape, value)} at '{path}' failed to satisfy constraint: {rule}"
        )


def _check(shape: botocore.model.Shape, value: Any, path: str, out: _Collector) -> None:
    kind = shape.type_name
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            out.serialization.append(f"'{path}' must be a number")
            return
    elif kind in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            out.serialization.append(f"'{path}' must be a number")
            return
    elif kind in _TYPE_NAMES and not isinstance(value, _TYPE_NAMES[kind]):
        out.serialization.append(f"'{path}' must be of type {kind}")
        return

    meta = shape.metadata
    if kind == "string":
        if "enum" in meta and value not in meta["enum"]:
            out.fail(shape, value, path, "Member must satisfy enum value set: [" + ", ".join(meta["enum"]) + "]")
        if "min" in meta and len(value) < meta["min"]:
            out.fail(shape, value, path, f"Member must have length greater than or equal to {meta['min']}")
        if "max" in meta and len(value) > meta["max"]:
            out.fail(shape, value, path, f"Member must have length less than or equal to {meta['max']}")
        if "pattern" in meta and not _pattern(meta["pattern"]).fullmatch(value):
            out.fail(shape, value, path, f"Member must satisfy regular expression pattern: {meta['pattern']}")
    elif kind in ("integer", "long", "double", "float"):
        if "min" in meta and value < meta["min"]:
            out.fail(shape, value, path, f"Member must have value greater than or equal to {meta['min']}")
        if "max" in meta and value > meta["max"]:
            out.fail(shape, value, path, f"Member must have value less than or equal to {meta['max']}")
    elif kind == "list":
        if "min" in meta and len(value) < meta["min"]:
            out.fail(shape, value, path, f"Member must have length greater than or equal to {meta['min']}")
        if "max" in meta and len(value) > meta["max"]:
            out.fail(shape, value, path, f"Member must have length less than or equal to {meta['max']}")
        for i, item in enumerate(value, start=1):
            _check(shape.member, item, f"{path}.{i}.member", out)
    elif kind == "map":
        for key, item in value.items():
            _check(shape.key, key, f"{path}.key", out)
            _check(shape.value, item, f"{path}.{key}", out)
    elif kind == "structure":
        _check_structure(shape, value, path, out)


def _check_structure(shape: botocore.model.StructureShape, value: dict[str, Any], path: str, out: _Collector) -> None:
    prefix = f"{path}." if path else ""
    for name in shape.required_members:
        if value.get(name) is None:
            member = shape.members[name]
            out.fail(member, None, prefix + _lower_camel(name), "Member must not be null")
    for name, member in shape.members.items():
        if name in value and value[name] is not None:
            _check(member, value[name], prefix + _lower_camel(name), out)


def validate(operation: botocore.model.OperationModel, params: Any, error_code: str) -> None:
    """Raise ServiceError(error_code) for constraint violations, SerializationException for wrong types."""
    shape = operation.input_shape
    if shape is None:
        return
    if not isinstance(params, dict):
        raise ServiceError("SerializationException", "The request body must be a JSON object", 400)
    out = _Collector()
    _check_structure(shape, params, "", out)
    if out.serialization:
        raise ServiceError("SerializationException", "; ".join(out.serialization), 400)
    if out.constraint:
        n = len(out.constraint)
        head = f"{n} validation error{'s' if n > 1 else ''} detected: "
        raise ServiceError(error_code, head + "; ".join(out.constraint))
