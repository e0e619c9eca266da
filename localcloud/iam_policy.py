"""IAM policy evaluation: does a set of policies allow an action on a resource in a request context?

moto has an evaluator (moto.iam.access_control.IAMPolicy / IAMPolicyStatement),
which this one follows in shape (a statement is concerned by an action, then a
resource, then its conditions) but departs from where it differs from AWS
(sources in localcloud/README.md, "IAM enforcement"):
- a statement whose conditions are not met does not apply (moto answers an
  explicit deny): "IAM JSON policy elements: Condition";
- action names match without regard to case, resources with it, and both
  accept `?` as well as `*`: "IAM JSON policy elements: Action / Resource";
- `NotResource` is honoured: "IAM JSON policy elements: NotResource";
- an explicit Deny in any policy wins over every Allow, and without an Allow
  the request is implicitly denied: "Policy evaluation logic".
"""

from __future__ import annotations

import enum
import fnmatch
import json
from typing import Any, Iterable, Mapping
from urllib.parse import unquote


class Decision(enum.Enum):
    ALLOW = "allow"
    EXPLICIT_DENY = "explicit-deny"
    IMPLICIT_DENY = "implicit-deny"


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _glob(pattern: str, value: str, ignore_case: bool) -> bool:
    # fnmatch treats "[" as a class; IAM has no classes, so escape it.
    pattern = pattern.replace("[", "[[]")
    if ignore_case:
        return fnmatch.fnmatchcase(value.lower(), pattern.lower())
    return fnmatch.fnmatchcase(value, pattern)


def action_matches(patterns: Any, action: str) -> bool:
    return any(_glob(str(p), action, ignore_case=True) for p in as_list(patterns))


def resource_matches(patterns: Any, resource: str) -> bool:
    return any(p == "*" or _glob(str(p), resource, ignore_case=False) for p in as_list(patterns))


_STRING_OPS = {
    "StringEquals": lambda have, want: have == want,
    "StringNotEquals": lambda have, want: have != want,
    "StringEqualsIgnoreCase": lambda have, want: have.lower() == want.lower(),
    "StringNotEqualsIgnoreCase": lambda have, want: have.lower() != want.lower(),
    "StringLike": lambda have, want: _glob(want, have, ignore_case=False),
    "StringNotLike": lambda have, want: not _glob(want, have, ignore_case=False),
    "ArnEquals": lambda have, want: have == want,
    "ArnNotEquals": lambda have, want: have != want,
    "ArnLike": lambda have, want: _glob(want, have, ignore_case=False),
    "ArnNotLike": lambda have, want: not _glob(want, have, ignore_case=False),
    "Bool": lambda have, want: have.lower() == want.lower(),
}


def conditions_met(conditions: Mapping[str, Any], context: Mapping[str, Any]) -> bool:
    """Every operator and key of a Condition block holds in `context` (keys lower-case).

    Values of one key are ORed, keys and operators are ANDed; a negated operator
    holds only if no value matches ("Conditions with multiple context keys or
    values"). A key missing from the request fails the condition, except for a
    negated operator, which then holds, and for IfExists, which then passes
    ("Condition operators"). An operator this evaluator does not know never
    grants.
    """
    for operator, clauses in conditions.items():
        if not isinstance(clauses, dict):
            return False
        qualifier, _, operator = operator.rpartition(":")
        if qualifier not in ("", "ForAnyValue", "ForAllValues"):
            return False
        if_exists = operator.endswith("IfExists")
        base = operator[: -len("IfExists")] if if_exists else operator
        for key, wanted in clauses.items():
            have = context.get(key.lower())
            if base == "Null":
                if str(as_list(wanted)[0]).lower() != str(have is None).lower():
                    return False
                continue
            compare = _STRING_OPS.get(base)
            if compare is None:
                return False
            negated = "Not" in base
            if have is None:
                # ForAllValues holds over no values; ForAnyValue needs one ("Set operators for multivalued context keys").
                if if_exists or qualifier == "ForAllValues" or (negated and qualifier != "ForAnyValue"):
                    continue
                return False
            values = [str(have_value) for have_value in as_list(have)]
            wants = [str(w) for w in as_list(wanted)]

            def holds(value: str) -> bool:
                results = [compare(value, w) for w in wants]
                return all(results) if negated else any(results)

            if qualifier == "ForAllValues":
                if not all(holds(v) for v in values):
                    return False
            elif not any(holds(v) for v in values):
                return False
    return True


def load_document(document: Any) -> dict[str, Any]:
    """A policy document as moto stores it (JSON text, maybe URL-encoded) or as a dict."""
    if isinstance(document, dict):
        return document
    text = str(document)
    try:
        return json.loads(text)
    except ValueError:
        return json.loads(unquote(text))


def statement_applies(statement: Mapping[str, Any], action: str, resource: str, context: Mapping[str, Any]) -> bool:
    if "NotAction" in statement:
        if action_matches(statement["NotAction"], action):
            return False
    elif not action_matches(statement.get("Action"), action):
        return False
    if "NotResource" in statement:
        if resource_matches(statement["NotResource"], resource):
            return False
    elif "Resource" in statement and not resource_matches(statement["Resource"], resource):
        return False
    return conditions_met(statement.get("Condition") or {}, context)


def decide(statements: Iterable[Any], action: str, resource: str, context: Mapping[str, Any]) -> Decision:
    """The decision of `statements` for one action on one resource: an explicit deny wins, else any allow."""
    allowed = False
    for statement in statements:
        if not statement_applies(statement, action, resource, context):
            continue
        if statement.get("Effect") == "Deny":
            return Decision.EXPLICIT_DENY
        if statement.get("Effect") == "Allow":
            allowed = True
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY


def evaluate(documents: Iterable[Any], action: str, resource: str, context: Mapping[str, Any]) -> Decision:
    """The decision of identity-based policies alone for one action on one resource."""
    statements = (s for document in documents for s in as_list(load_document(document).get("Statement")))
    return decide(statements, action, resource, context)


def principal_matches(principal: Any, caller_arns: set[str], account: str) -> bool:
    """A resource or trust policy's Principal names the caller: `*`, its account (id or root ARN) or its ARN."""
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    for entry in as_list(principal.get("AWS")):
        if entry == "*" or entry == account or entry in caller_arns:
            return True
    return False


def resource_policy_decision(
    document: Any, action: str, resource: str, caller_arns: set[str], account: str, context: Mapping[str, Any]
) -> Decision:
    """The decision of a resource-based policy (a topic policy) for the caller: its statements whose
    Principal names the caller."""
    statements = (s for s in as_list(load_document(document).get("Statement"))
                  if principal_matches(s.get("Principal"), caller_arns, account))
    return decide(statements, action, resource, context)
