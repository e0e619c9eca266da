"""Seed the local cloud: an organization with fixed account ids and, in each account, what the provider expects.

Runs inside the server process and writes moto's backends directly: moto's
CreateAccount makes random ids, and the Slack and Teams authorizations are
console steps with no API. The management account gets the provider's role
of cfn-templates/provider.yaml and a session of it (the credentials Lambda
would hand the function). Each seeded account (management, members and the
outsider) gets:
- the execution role of cfn-templates/member-role.yaml (trusting the
  provider's role with the seed's ExternalId),
- `OrganizationAccountAccessRole` (AdministratorAccess, trusting the
  management account), the tests' way into an account,
- channel roles named as member-role.yaml lets the provider pass them:
  `chatops-chatbot-channel` (chatbot.amazonaws.com, notifications-only policy),
  `chatops-supportapp-channel` (supportapp.amazonaws.com, AWSSupportAccess),
  `chatops-admin-channel` (chatbot.amazonaws.com, AdministratorAccess) for guardrail checks,
- the SNS topic `chatops-alerts` in each seeded region,
- the Slack workspace authorized for Chatbot and a configured Teams team.
The management account also has the Slack workspace for the Support App,
registered for the organization. The response bucket lives there too.
"""

from __future__ import annotations

import copy
import json
import os
from typing import Any

import yaml

from localcloud import template_roles

DEFAULT_SEED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seed.yaml")

# AWS managed policies the seeded roles attach. moto can load all ~1,600 of
# them into every account, which makes a 100-account seed slow; these suffice.
MANAGED_POLICIES = ("AdministratorAccess", "ReadOnlyAccess", "AWSSupportAccess", "CloudWatchReadOnlyAccess")

CHATBOT_ROLE = "chatops-chatbot-channel"
SUPPORTAPP_ROLE = "chatops-supportapp-channel"
ADMIN_ROLE = "chatops-admin-channel"


class SeedError(ValueError):
    """A seed file that cannot be used, with what is wrong in it."""


def load_seed(path: str | None) -> dict[str, Any]:
    """The default seed overlaid with the keys of `path` (JSON or YAML), checked."""
    with open(DEFAULT_SEED) as f:
        seed = yaml.safe_load(f)
    if path:
        with open(path) as f:
            text = f.read()
        try:
            override = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as err:
            raise SeedError(f"{path} is not valid {'JSON' if path.endswith('.json') else 'YAML'}: {err}") from None
        if override is None:
            override = {}
        if not isinstance(override, dict):
            raise SeedError(f"seed file {path} must hold a mapping")
        for key, value in override.items():
            if isinstance(value, dict) and isinstance(seed.get(key), dict):
                seed[key] = {**seed[key], **value}
            else:
                seed[key] = value
    check_seed(seed)
    return seed


def _account_id(value: Any, where: str) -> str:
    text = str(value)
    if not (text.isdigit() and len(text) == 12):
        raise SeedError(f"{where}: {value!r} is not a 12-digit account id")
    return text


def check_seed(seed: dict[str, Any]) -> None:
    management = seed.get("management_account")
    if not isinstance(management, dict):
        raise SeedError("management_account must be a mapping with an id")
    _account_id(management.get("id"), "management_account.id")
    count = seed.get("member_count", 0)
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 10_000:
        raise SeedError(f"member_count must be a whole number from 0 to 10000, not {count!r}")
    _account_id(seed.get("member_id_start", "100000000001"), "member_id_start")
    for key in ("members", "outside_accounts"):
        entries = seed.get(key) or []
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise SeedError(f"{key} must be a list of {{id, name}} mappings")
        for i, entry in enumerate(entries):
            _account_id(entry.get("id"), f"{key}[{i}].id")
    ids = [str(management["id"])] + [a["id"] for a in member_accounts(seed)]
    ids += [str(a["id"]) for a in seed.get("outside_accounts") or []]
    if len(ids) != len(set(ids)):
        raise SeedError("account ids must be unique across management, members and outside accounts")
    regions = seed.get("regions")
    if not isinstance(regions, list) or not regions or not all(isinstance(r, str) and r for r in regions):
        raise SeedError("regions must be a non-empty list of region names")
    for key, members in {"execution_role": ("name", "external_id"), "slack": ("team_id", "team_name"), "supportapp": ("management_team_ids",)}.items():
        value = seed.get(key)
        if not isinstance(value, dict) or any(m not in value for m in members):
            raise SeedError(f"{key} must be a mapping with {', '.join(members)}")
    for key in ("topic_name", "response_bucket"):
        if not isinstance(seed.get(key), str) or not seed[key]:
            raise SeedError(f"{key} must be a non-empty string")


def member_accounts(seed: dict[str, Any]) -> list[dict[str, str]]:
    if seed.get("members"):
        return [{"id": str(m["id"]), "name": str(m.get("name") or f"member-{m['id']}")} for m in seed["members"]]
    start = int(str(seed.get("member_id_start", "100000000001")))
    return [
        {"id": f"{start + i:012d}", "name": f"member-{i + 1:03d}"} for i in range(int(seed.get("member_count", 6)))
    ]


def _policy(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _trust_service(service: str) -> str:
    return _policy([{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}])


NOTIFICATIONS_ONLY = _policy(
    [{"Effect": "Allow", "Action": ["cloudwatch:Describe*", "cloudwatch:Get*", "cloudwatch:List*"], "Resource": "*"}]
)

# The role Organizations creates in every account made with CreateAccount, trusting the management
# account and holding AdministratorAccess ("Accessing a member account that has a management account
# access role", AWS Organizations User Guide; moto's CreateAccount makes it without the policy). The
# tests act in other accounts through it; the seed puts it in the management and outside accounts too.
ORGANIZATION_ACCESS_ROLE = "OrganizationAccountAccessRole"

PROVIDER_NAME = "chatops-provider"
# A reviewer's role in the management account, holding provider.yaml's PlannerPolicy: `chatops plan
# --role-name ChatOpsPlanRole` runs as it, and member-role.yaml's plan role trusts it.
PLANNER_ROLE = "chatops-planner"
PLAN_ROLE = "ChatOpsPlanRole"
PROVIDER_REGION = "us-east-1"


class _ManagedPolicies:
    """Builds the few AWS managed policies once and gives each account its own objects."""

    def __init__(self) -> None:
        from moto.iam.aws_managed_policies import aws_managed_policies_data

        data = json.loads(aws_managed_policies_data)
        self.data = {name: data[name] for name in MANAGED_POLICIES}

    def install(self, iam: Any) -> None:
        from moto.iam.models import AWSManagedPolicy

        for name, data in self.data.items():
            arn = f"arn:aws:iam::aws:policy{data.get('Path', '/')}{name}"
            if arn in iam.managed_policies:
                continue
            policy = AWSManagedPolicy.from_data(name, iam.account_id, "us-east-1", data)
            iam.aws_managed_policies.append(policy)
            iam.managed_policies[policy.arn] = policy


def _create_role(iam: Any, name: str, trust: str, description: str) -> Any:
    return iam.create_role(
        role_name=name,
        assume_role_policy_document=trust,
        path="/",
        permissions_boundary=None,
        description=description,
        tags=[{"Key": "chatops:seeded", "Value": "true"}],
        max_session_duration="3600",
    )


def seed_account(account: str, seed: dict[str, Any], policies: _ManagedPolicies, provider_role_arn: str) -> dict[str, Any]:
    from moto.chatbot.models import chatbot_backends
    from moto.iam.models import iam_backends
    from moto.sns.models import sns_backends

    management = str(seed["management_account"]["id"])
    execution = seed["execution_role"]
    iam = iam_backends[account]["global"]
    policies.install(iam)

    member = template_roles.resolve_resources(
        template_roles.MEMBER_TEMPLATE,
        {"RoleName": execution["name"], "ProviderRoleArn": provider_role_arn, "ExternalId": execution["external_id"],
         "PlanPrincipalArn": f"arn:aws:iam::{management}:role/{PLANNER_ROLE}", "PlanRoleName": PLAN_ROLE},
        account, PROVIDER_REGION, ["ExecutionRole", "PlanRole"],
    )
    template_roles.create_role(iam, member["ExecutionRole"])
    template_roles.create_role(iam, member["PlanRole"])
    trust_management = _policy([{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{management}:root"}, "Action": "sts:AssumeRole"}])
    if not any(r.name == ORGANIZATION_ACCESS_ROLE for r in iam.roles.values()):  # moto's CreateAccount makes it in members
        _create_role(iam, ORGANIZATION_ACCESS_ROLE, trust_management, "Organizations' management account access role")
    iam.attach_role_policy("arn:aws:iam::aws:policy/AdministratorAccess", ORGANIZATION_ACCESS_ROLE)

    chatbot_role = _create_role(iam, CHATBOT_ROLE, _trust_service("chatbot.amazonaws.com"), "Chatbot channel role")
    iam.put_role_policy(CHATBOT_ROLE, "NotificationsOnly", NOTIFICATIONS_ONLY)
    support_role = _create_role(iam, SUPPORTAPP_ROLE, _trust_service("supportapp.amazonaws.com"), "Support App channel role")
    iam.attach_role_policy("arn:aws:iam::aws:policy/AWSSupportAccess", SUPPORTAPP_ROLE)
    admin_role = _create_role(iam, ADMIN_ROLE, _trust_service("chatbot.amazonaws.com"), "Over-privileged channel role")
    iam.attach_role_policy("arn:aws:iam::aws:policy/AdministratorAccess", ADMIN_ROLE)

    topics = {}
    for region in seed["regions"]:
        topic = sns_backends[account][region].create_topic(seed["topic_name"])
        topics[region] = topic.arn

    chatbot = chatbot_backends[account]["aws"]
    chatbot.authorize_slack_workspace(seed["slack"]["team_id"], seed["slack"]["team_name"])
    teams = seed.get("teams")
    if teams:
        chatbot.configure_teams_team(teams["team_id"], teams["tenant_id"], teams["team_name"])

    return {
        "chatbot_role_arn": chatbot_role.arn,
        "supportapp_role_arn": support_role.arn,
        "admin_role_arn": admin_role.arn,
        "execution_role_arn": f"arn:aws:iam::{account}:role/{execution['name']}",
        "topics": topics,
    }


def seed_provider(management: str, organization_id: str, seed: dict[str, Any], policies: _ManagedPolicies) -> dict[str, Any]:
    """provider.yaml's ProviderRole in the management account, and a session of it as Lambda hands the function."""
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    iam = iam_backends[management]["global"]
    policies.install(iam)
    resolved = template_roles.resolve_resources(
        template_roles.PROVIDER_TEMPLATE,
        {
            "ProviderName": PROVIDER_NAME, "CodeS3Bucket": "chatops-code", "CodeS3Key": "chatops-lambda.zip",
            "ExecutionRoleName": seed["execution_role"]["name"], "ExternalId": seed["execution_role"]["external_id"],
            "OrganizationId": organization_id, "PlanRoleName": PLAN_ROLE,
        },
        management, PROVIDER_REGION, ["ProviderRole", "PlannerPolicy"],
    )
    role = template_roles.create_role(iam, resolved["ProviderRole"])
    planner_policy = template_roles.create_managed_policy(iam, resolved["PlannerPolicy"])
    trust = _policy([{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{management}:root"}, "Action": "sts:AssumeRole"}])
    planner = _create_role(iam, PLANNER_ROLE, trust, "A reviewer or pipeline that runs chatops plan")
    iam.attach_role_policy(planner_policy.arn, PLANNER_ROLE)
    # Lambda names the session after the function (the function's execution role, Lambda Developer Guide).
    session = sts_backends[management]["aws"].assume_role(
        region_name=PROVIDER_REGION, role_session_name=PROVIDER_NAME, role_arn=role.arn, policy="", duration=43200, external_id="",
    )
    reviewer = sts_backends[management]["aws"].assume_role(
        region_name=PROVIDER_REGION, role_session_name="reviewer", role_arn=planner.arn, policy="", duration=43200, external_id="",
    )
    return {"role_arn": role.arn, "credentials": _credentials(session), "planner_role_arn": planner.arn, "planner_credentials": _credentials(reviewer)}


def _credentials(session: Any) -> dict[str, str]:
    return {"access_key_id": session.access_key_id, "secret_access_key": session.secret_access_key, "session_token": session.session_token}


def _create_organization(seed: dict[str, Any], members: list[dict[str, str]]) -> str:
    from moto.organizations import utils as org_utils
    from moto.organizations.models import organizations_backends

    management = str(seed["management_account"]["id"])
    backend = organizations_backends[management]["aws"]
    random_org_id, random_account_id = org_utils.make_random_org_id, org_utils.make_random_account_id
    try:
        if seed.get("organization_id"):
            org_utils.make_random_org_id = lambda: str(seed["organization_id"])  # type: ignore[assignment]
        backend.create_organization(region="us-east-1", FeatureSet="ALL")
        backend.accounts[0].name = seed["management_account"].get("name", "management")
        for member in members:
            org_utils.make_random_account_id = lambda m=member: m["id"]  # type: ignore[misc]
            backend.create_account(AccountName=member["name"], Email=f"chatops+{member['id']}@example.com")
    finally:
        org_utils.make_random_org_id, org_utils.make_random_account_id = random_org_id, random_account_id
    assert backend.org is not None
    return backend.org.id


def apply_seed(seed: dict[str, Any], endpoint: str) -> dict[str, Any]:
    """Seed every backend; return the description printed by `serve` (and served at /_localcloud/info)."""
    from moto.s3.models import s3_backends
    from moto.supportapp.models import supportapp_backends

    seed = copy.deepcopy(seed)
    management = {"id": str(seed["management_account"]["id"]), "name": seed["management_account"].get("name", "management")}
    members = member_accounts(seed)
    outsiders = [{"id": str(a["id"]), "name": str(a.get("name", "outsider"))} for a in seed.get("outside_accounts") or []]

    organization_id = _create_organization(seed, members)
    policies = _ManagedPolicies()
    provider = seed_provider(management["id"], organization_id, seed, policies)
    from localcloud import iam_enforce

    iam_enforce.Settings.enabled = bool(seed.get("enforce_iam", True))
    accounts = []
    for kind, account in [("management", management)] + [("member", m) for m in members] + [("outside", o) for o in outsiders]:
        details = seed_account(account["id"], seed, policies, provider["role_arn"])
        accounts.append({"id": account["id"], "name": account["name"], "kind": kind, **details})

    support = supportapp_backends[management["id"]]["aws"]
    for team_id in seed["supportapp"]["management_team_ids"]:
        name = seed["slack"]["team_name"] if team_id == seed["slack"]["team_id"] else team_id
        support.authorize_workspace(team_id, name, for_organization=True)

    s3_backends[management["id"]]["aws"].create_bucket(seed["response_bucket"], "us-east-1")

    teams = seed.get("teams") or {}
    return {
        "endpoint": endpoint,
        "region": "us-east-1",
        "management_account": management["id"],
        "member_accounts": [m["id"] for m in members],
        "outside_account": outsiders[0]["id"] if outsiders else None,
        "outside_accounts": [o["id"] for o in outsiders],
        "organization_id": organization_id,
        "execution_role_name": seed["execution_role"]["name"],
        "provider_role_arn": provider["role_arn"],
        "provider_credentials": provider["credentials"],
        "planner_role_arn": provider["planner_role_arn"],
        "planner_credentials": provider["planner_credentials"],
        "plan_role_name": PLAN_ROLE,
        "organization_access_role_name": ORGANIZATION_ACCESS_ROLE,
        "enforce_iam": iam_enforce.Settings.enabled,
        "external_id": seed["execution_role"]["external_id"],
        "slack_team_id": seed["slack"]["team_id"],
        "slack_team_name": seed["slack"]["team_name"],
        "unauthorized_slack_team_id": seed["slack"].get("unauthorized_team_id"),
        "supportapp_team_ids": list(seed["supportapp"]["management_team_ids"]),
        "teams_team_id": teams.get("team_id"),
        "teams_tenant_id": teams.get("tenant_id"),
        "topic_name": seed["topic_name"],
        "regions": list(seed["regions"]),
        "response_bucket": seed["response_bucket"],
        "accounts": accounts,
    }
