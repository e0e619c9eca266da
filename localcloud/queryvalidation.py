"""Model checks for the query-protocol calls the provider makes to STS, IAM, SNS and CloudFormation.

moto trusts its input: AssumeRole without a RoleArn, or an SNS call with a
TopicArn that is not an ARN, ends in a Python exception. The real services
answer 400 (ValidationError, or SNS's InvalidParameter) naming the member.
Only top-level members are checked (required, length, pattern, enum,
integer range): they are what a caller gets wrong, and nested query
members (Tags.member.1.Key) are left to moto so that no valid request can
be refused here.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from localcloud.modelvalidation import _Collector, _lower_camel, _pattern, service_model
from localcloud.protocols import Call

SERVICES = {"sts", "iam", "sns", "cloudformation"}
SCALARS = {"string", "integer", "long", "boolean"}


def _params(environ: dict[str, Any], body: bytes | None) -> dict[str, str]:
    params = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).items()}
    if body:
        params.update({k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()})
    return params


def check(call: Call, environ: dict[str, Any], body: bytes | None) -> tuple[int, str, str] | None:
    """(status, code, message) when the call breaks its model, else None."""
    if call.service not in SERVICES or not call.operation:
        return None
    try:
        operation = service_model(call.service).operation_model(call.operation)
    except Exception:
        return None  # an operation the model lacks: let moto answer it
    shape = operation.input_shape
    if shape is None:
        return None
    params = _params(environ, body)
    out = _Collector()
    for name, member in shape.members.items():
        key = member.serialization.get("name", name)
        path = _lower_camel(name)
        if member.type_name not in SCALARS:
            if name in shape.required_members and not any(k == key or k.startswith(key + ".") for k in params):
                out.fail(member, None, path, "Member must not be null")
            continue
        if key not in params:
            if name in shape.required_members:
                out.fail(member, None, path, "Member must not be null")
            continue
        value, meta = params[key], member.metadata
        if member.type_name in ("integer", "long"):
            try:
                number = int(value)
            except ValueError:
                out.fail(member, value, path, "Member must be a number")
                continue
            if "min" in meta and number < meta["min"]:
                out.fail(member, value, path, f"Member must have value greater than or equal to {meta['min']}")
            if "max" in meta and number > meta["max"]:
                out.fail(member, value, path, f"Member must have value less than or equal to {meta['max']}")
        elif member.type_name == "string":
            if "enum" in meta and value not in meta["enum"]:
                out.fail(member, value, path, "Member must satisfy enum value set: [" + ", ".join(meta["enum"]) + "]")
            if "min" in meta and len(value) < meta["min"]:
                out.fail(member, value, path, f"Member must have length greater than or equal to {meta['min']}")
            if "max" in meta and len(value) > meta["max"]:
                out.fail(member, value, path, f"Member must have length less than or equal to {meta['max']}")
            if "pattern" in meta:
                try:
                    matches = _pattern(meta["pattern"]).fullmatch(value) is not None
                except Exception:
                    matches = True  # a Java-only pattern: leave it to moto
                if not matches:
                    out.fail(member, value, path, f"Member must satisfy regular expression pattern: {meta['pattern']}")
            if call.service == "sns" and name.endswith("Arn") and name != "PlatformApplicationArn" and not _sns_arn(value):
                return 400, "InvalidParameter", f"Invalid parameter: {name}"
    if out.constraint:
        n = len(out.constraint)
        return 400, "ValidationError", f"{n} validation error{'s' if n > 1 else ''} detected: " + "; ".join(out.constraint)
    return None


def _sns_arn(value: str) -> bool:
    parts = value.split(":")
    return len(parts) >= 6 and parts[0] == "arn" and parts[2] == "sns" and parts[3] != "" and parts[4].isdigit()
