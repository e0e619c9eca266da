"""STS AssumeRole that honours the role's trust policy, as the provider's cross-account hop needs.

moto lets anyone assume any role, even one that does not exist. The real
STS refuses (AccessDenied, HTTP 403) unless the role exists and its trust
policy allows the caller: a principal naming the caller's account
(`arn:aws:iam::ACCOUNT:root` or the bare id), the caller's own ARN, or `*`,
with every condition met. The provider's execution role carries
`StringEquals sts:ExternalId`, so a wrong or missing ExternalId is refused.
Credentials that are handed out act in the role's account (moto maps the
new access key to it).
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import unquote

from localcloud.awsutil import organization_of, parse_arn
from localcloud.iam_policy import action_matches, as_list, conditions_met, principal_matches


def _caller(account: str, access_key: str) -> tuple[str, set[str]]:
    """The caller's ARN as STS names it in errors, and every ARN a trust policy may name it by."""
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    root = f"arn:aws:iam::{account}:root"
    assumed = sts_backends[account]["aws"].get_assumed_role_from_access_key(access_key)
    if assumed is not None:
        return assumed.arn, {root, assumed.arn, assumed.role_arn}
    key = iam_backends[account]["global"].access_keys.get(access_key)
    user_name = getattr(key, "user_name", None)
    if user_name:
        user = f"arn:aws:iam::{account}:user/{user_name}"
        return user, {root, user}
    return root, {root}


def trust_allows(policy_document: str, account: str, caller_arns: set[str], context: dict[str, str | None]) -> bool:
    try:
        policy = json.loads(unquote(policy_document)) if isinstance(policy_document, str) else policy_document
    except ValueError:
        return False
    allowed = False
    for statement in as_list(policy.get("Statement")):
        if not action_matches(statement.get("Action"), "sts:AssumeRole"):
            continue
        if not principal_matches(statement.get("Principal"), caller_arns, account):
            continue
        if not conditions_met(statement.get("Condition") or {}, context):
            continue
        if statement.get("Effect") == "Deny":
            return False
        if statement.get("Effect") == "Allow":
            allowed = True
    return allowed


def access_denied(caller: str, role_arn: str) -> tuple[str, dict[str, Any]]:
    body = (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        "<Error><Type>Sender</Type><Code>AccessDenied</Code>"
        f"<Message>User: {caller} is not authorized to perform: sts:AssumeRole on resource: {role_arn}</Message>"
        f"</Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )
    return body, {"status": 403, "Content-Type": "text/xml"}


def install() -> None:
    """Wrap moto's STS AssumeRole handler with the trust policy check."""
    from moto.iam.models import iam_backends
    from moto.sts.responses import TokenResponse

    original = TokenResponse.assume_role
    if getattr(original, "_localcloud", False):
        return

    def assume_role(self: TokenResponse) -> Any:
        role_arn = self._get_param("RoleArn") or ""
        account = self.current_account
        caller, caller_arns = _caller(account, self.access_key)
        # aws:PrincipalArn of a role session is the role's ARN ("AWS global condition context keys").
        principal_arn = next((a for a in caller_arns if ":role/" in a), caller)
        arn = parse_arn(role_arn)
        role = None
        if arn is not None and arn.service == "iam" and arn.account.isdigit():
            role = next((r for r in iam_backends[arn.account]["global"].roles.values() if r.arn == role_arn), None)
        if role is None:
            return access_denied(caller, role_arn)
        membership = organization_of(account)
        context = {
            "sts:externalid": self._get_param("ExternalId"),
            "sts:rolesessionname": self._get_param("RoleSessionName"),
            "aws:principalaccount": account,
            "aws:principalarn": principal_arn,
            "aws:principalorgid": membership.organization_id if membership else None,
        }
        if not trust_allows(role.assume_role_policy_document, account, caller_arns, context):
            return access_denied(caller, role_arn)
        return original(self)

    assume_role._localcloud = True  # type: ignore[attr-defined]
    TokenResponse.assume_role = assume_role  # type: ignore[method-assign]
