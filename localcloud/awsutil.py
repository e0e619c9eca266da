"""Small helpers the extension services share: ARNs, paging tokens, IAM and Organizations lookups."""

from __future__ import annotations

import base64
import json
from typing import Any, NamedTuple

from localcloud.modelvalidation import ServiceError


class Arn(NamedTuple):
    partition: str
    service: str
    region: str
    account: str
    resource: str


def parse_arn(arn: str) -> Arn | None:
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return Arn(parts[1], parts[2], parts[3], parts[4], parts[5])


def encode_token(position: int) -> str:
    """Opaque NextToken (base64 of a JSON cursor), matching the models' token pattern."""
    return base64.b64encode(json.dumps({"after": position}).encode()).decode()


def decode_token(token: str | None, member: str, error_code: str) -> int:
    if token is None:
        return -1
    try:
        cursor = json.loads(base64.b64decode(token.encode(), validate=True))
        return int(cursor["after"])
    except (ValueError, KeyError, TypeError):
        raise ServiceError(error_code, f"The {member} '{token}' is not valid")


def page(items: list[tuple[int, Any]], token: str | None, limit: int, member: str, error_code: str) -> tuple[list[Any], str | None]:
    """Cursor paging over (sequence, item) pairs sorted by sequence; safe against deletes between pages."""
    after = decode_token(token, member, error_code)
    rest = [(seq, item) for seq, item in items if seq > after]
    chosen = rest[:limit]
    next_token = encode_token(chosen[-1][0]) if len(rest) > limit else None
    return [item for _, item in chosen], next_token


def role_exists(account: str, role_arn: str) -> bool:
    from moto.iam.models import iam_backends

    arn = parse_arn(role_arn)
    if arn is None or arn.service != "iam" or arn.account != account or not arn.resource.startswith("role/"):
        return False
    return any(role.arn == role_arn for role in iam_backends[account]["global"].roles.values())


class OrgMembership(NamedTuple):
    organization_id: str
    management_account: str


def organization_of(account: str) -> OrgMembership | None:
    """The organization an account belongs to (moto keeps it in the management account's backend)."""
    from moto.organizations.models import organizations_backends

    if account in organizations_backends.master_accounts:
        management, partition = organizations_backends.master_accounts[account]
        org = organizations_backends[management][partition].org
        member = next((a for a in organizations_backends[management][partition].accounts if a.id == account), None)
        if org is not None and member is not None and member.status == "ACTIVE":
            return OrgMembership(org.id, management)
        return None
    if account in organizations_backends:
        org = organizations_backends[account]["aws"].org
        if org is not None:
            return OrgMembership(org.id, account)
    return None
