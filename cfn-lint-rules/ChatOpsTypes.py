"""cfn-lint rules for the ChatOps Provider's Custom:: resource types.

cfn-lint checks AWS:: types against their registry schemas, but every
`Custom::` resource maps to AWS::CloudFormation::CustomResource, which takes
any property: a typo or a bad value reaches the deploy. These rules check
each resource of this provider's types against its schema in `schemas/`
(generated from the provider's Rust types, so they never drift):

    cfn-lint --append-rules cfn-lint-rules template.yaml

E9101: a property that is unknown, missing, of the wrong type, or whose value
breaks the type's pattern, length or allowed values. E9102: `Fn::GetAtt` (or
`${Res.Attr}` in `Fn::Sub`) of an attribute the type does not have.

Values that are intrinsic functions (`!Ref`, `!Sub`, ...) are known only at
deploy time and are not judged. CloudFormation sends booleans and numbers to
custom resources as strings, so "true" is a boolean and "5" a number, as the
provider reads them. Set CHATOPS_SCHEMAS to another `schemas/` directory to
lint with the schemas of another version of the provider.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from pathlib import Path
from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch

# Where the rules are documented: the README of the repository they ship in.
SOURCE_URL = "README.md#cfn-lint"


def _schemas() -> dict[str, dict[str, Any]]:
    folder = Path(os.environ.get("CHATOPS_SCHEMAS") or Path(__file__).resolve().parent.parent / "schemas")
    schemas = {}
    for path in sorted(folder.glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        schemas[schema["title"]] = schema
    return schemas


SCHEMAS = _schemas()


def _is_intrinsic(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("Ref", "Condition") or (
        isinstance(value, dict) and len(value) == 1 and str(next(iter(value))).startswith("Fn::")
    )


def _type_problem(value: Any, wanted: str) -> str | None:
    if wanted == "string":
        ok = isinstance(value, str) or (isinstance(value, (int, float)) and not isinstance(value, bool))
    elif wanted == "boolean":
        ok = isinstance(value, bool) or (isinstance(value, str) and value in ("true", "false"))
    elif wanted == "integer":
        ok = (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value) is not None)
    elif wanted == "array":
        ok = isinstance(value, list)
    elif wanted == "object":
        ok = isinstance(value, dict)
    else:
        ok = True
    return None if ok else f"{value!r} is not a {wanted}"


def problems(value: Any, schema: dict[str, Any], path: list[Any]) -> list[tuple[list[Any], str]]:
    """The problems of `value` against `schema` (the subset of JSON Schema the provider's schemas use)."""
    if _is_intrinsic(value):
        return []
    wanted = schema.get("type")
    if wanted:
        problem = _type_problem(value, wanted)
        if problem:
            return [(path, problem)]
    found: list[tuple[list[Any], str]] = []
    if isinstance(value, (str, int, float)) and not isinstance(value, bool) and wanted == "string":
        text = str(value)
        if "enum" in schema and text not in schema["enum"]:
            found.append((path, f"{text!r} is not one of {', '.join(schema['enum'])}"))
        if "pattern" in schema and re.search(schema["pattern"], text) is None:
            found.append((path, f"{text!r} does not match {schema['pattern']}"))
        if "minLength" in schema and len(text) < schema["minLength"]:
            found.append((path, f"{text!r} is shorter than {schema['minLength']} characters"))
        if "maxLength" in schema and len(text) > schema["maxLength"]:
            found.append((path, f"{text[:40]!r}... is longer than {schema['maxLength']} characters"))
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found.extend(problems(item, schema["items"], path + [index]))
    if isinstance(value, dict) and "properties" in schema:
        known = schema["properties"]
        for name in schema.get("required", []):
            if name not in value:
                found.append((path, f"{name} is required"))
        for name, item in value.items():
            if name in known:
                found.extend(problems(item, known[name], path + [name]))
            elif schema.get("additionalProperties") is False:
                close = difflib.get_close_matches(name, list(known), n=1)
                hint = f"; did you mean {close[0]}?" if close else f"; the properties are {', '.join(sorted(known))}"
                found.append((path + [name], f"{name} is not a property of this type{hint}"))
    return found


class ChatOpsProperties(CloudFormationLintRule):
    """Properties of the ChatOps Provider's Custom:: types, checked against schemas/."""

    id = "E9101"
    shortdesc = "ChatOps Provider resource properties"
    description = "Checks the properties of Custom::Chatbot... and Custom::SupportApp... resources against the provider's schemas"
    source_url = SOURCE_URL
    tags = ["resources", "chatops"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        matches = []
        for logical_id, resource in cfn.get_resources().items():
            schema = SCHEMAS.get(resource.get("Type"))
            if schema is None:
                continue
            if _is_intrinsic(resource.get("Properties")):
                continue
            properties = dict(resource.get("Properties") or {})
            if "ServiceToken" not in properties:
                matches.append(RuleMatch(["Resources", logical_id, "Properties"], "ServiceToken is required for every custom resource"))
            properties.pop("ServiceToken", None)
            for path, message in problems(properties, schema, []):
                where = ["Resources", logical_id, "Properties", *path]
                matches.append(RuleMatch(where, f"{resource['Type']} {'/'.join(map(str, path)) or 'Properties'}: {message}"))
        return matches


class ChatOpsAttributes(CloudFormationLintRule):
    """Fn::GetAtt of the ChatOps Provider's Custom:: types names one of their attributes."""

    id = "E9102"
    shortdesc = "ChatOps Provider resource attributes"
    description = "Checks that Fn::GetAtt of a Custom::Chatbot... or Custom::SupportApp... resource names an attribute it has"
    source_url = SOURCE_URL
    tags = ["functions", "getatt", "chatops"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        types = {logical_id: r.get("Type") for logical_id, r in cfn.get_resources().items()}
        matches = []

        def check(target: str, path: list[Any]) -> None:
            logical_id, _, attribute = target.partition(".")
            schema = SCHEMAS.get(types.get(logical_id))
            if schema is not None and attribute not in schema.get("attributes", []):
                matches.append(RuleMatch(
                    path,
                    f"{types[logical_id]} has no attribute {attribute!r}; Fn::GetAtt can read {', '.join(schema['attributes'])}",
                ))

        def walk(value: Any, path: list[Any]) -> None:
            if isinstance(value, dict):
                for key, item in value.items():
                    if key == "Fn::GetAtt":
                        if isinstance(item, str):
                            check(item, path + [key])
                        elif isinstance(item, list) and len(item) == 2 and all(isinstance(i, str) for i in item):
                            check(f"{item[0]}.{item[1]}", path + [key])
                    elif key == "Fn::Sub":
                        text = item if isinstance(item, str) else item[0] if isinstance(item, list) and item else ""
                        for name in re.findall(r"\$\{([^!}][^}]*)\}", text if isinstance(text, str) else ""):
                            if "." in name:
                                check(name.strip(), path + [key])
                    walk(item, path + [key])
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    walk(item, path + [index])

        for section in ("Resources", "Outputs"):
            walk(cfn.template.get(section) or {}, [section])
        return matches
