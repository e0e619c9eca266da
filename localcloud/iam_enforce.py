"""IAM enforcement for role sessions: every call in the provider's services is authorized as AWS would.

moto authorizes nothing unless INITIAL_NO_AUTH_ACTION_COUNT is set, and then
only with resource "*" for most services. Here a call signed with the keys of
an assumed-role session (the provider's role, the member execution roles,
anything AssumeRole handed out) in chatbot, supportapp, iam, sns, sts,
organizations or cloudformation needs, for each action the Service
Authorization Reference lists for its API operation (the operation's own
action and its dependent actions):
- an Allow and no Deny in the role's identity policies (inline and attached),
  for the resource ARN that reference defines for the action ("*" where it
  lists no resource type), with the request's condition keys;
- for an SNS topic of another account, an Allow in the topic's policy too.
Root and IAM-user keys are not checked: the test harness acts with them.
A denial is the service's own AccessDenied error naming the caller, the
action and the resource, as AWS words it ("Access denied error messages" in
the IAM User Guide). Sources of each mapping: localcloud/README.md.
"""

from __future__ import annotations

import json
from typing import Any, Callable, NamedTuple
from urllib.parse import parse_qs

from localcloud.awsutil import organization_of, parse_arn
from localcloud.iam_policy import Decision, evaluate, resource_policy_decision

SERVICES = frozenset({"chatbot", "supportapp", "iam", "sns", "sts", "organizations", "cloudformation"})


class Settings:
    """Whether role sessions are checked (the seed's `enforce_iam`)."""

    enabled = True


class Check(NamedTuple):
    """One action on one resource that the caller must be allowed."""

    action: str
    resource: str
    context: dict[str, Any]


class Caller(NamedTuple):
    account: str
    arn: str  # arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION
    role_arn: str
    role_name: str


# -- what each operation needs ---------------------------------------------------------------------

CHATBOT_TYPES = {
    "SlackChannel": "slack-channel",
    "ChimeWebhook": "chime-webhook",
    "MicrosoftTeamsChannel": "microsoft-teams-channel",
}


def _chatbot(operation: str, params: dict[str, Any], account: str, region: str) -> list[Check]:
    """Service Authorization Reference, AWS Chatbot: ChatbotConfiguration is
    arn:${Partition}:chatbot::${Account}:chat-configuration/${ConfigurationType}/${ChatbotConfigurationName};
    Create* also needs chatbot:TagResource (when it tags) and iam:PassRole with
    iam:PassedToService chatbot.amazonaws.com; Update/Delete/(Un)Tag/ListTags
    act on the configuration; Describe/List/Get and Create list none ("*")."""
    action = f"chatbot:{operation}"
    checks: list[Check] = []
    target = params.get("ChatConfigurationArn") or params.get("ResourceARN")
    if operation.startswith(("Update", "Delete")) and target or operation in ("TagResource", "UntagResource", "ListTagsForResource"):
        checks.append(Check(action, str(target or "*"), {}))
    else:
        checks.append(Check(action, "*", {}))
    if operation.startswith("Create") and operation.endswith("Configuration"):
        kind = next((v for k, v in CHATBOT_TYPES.items() if k in operation), None)
        name = params.get("ConfigurationName")
        if params.get("Tags") and kind and name:
            arn = f"arn:aws:chatbot::{account}:chat-configuration/{kind}/{name}"
            checks.append(Check("chatbot:TagResource", arn, {}))
    if operation.startswith(("Create", "Update")) and params.get("IamRoleArn"):
        checks.append(Check("iam:PassRole", str(params["IamRoleArn"]), {"iam:passedtoservice": "chatbot.amazonaws.com"}))
    return checks


def _iam_role_arn(account: str, name: str) -> str:
    from moto.iam.models import iam_backends

    role = iam_backends[account]["global"].roles.get(name)
    if role is None:
        role = next((r for r in iam_backends[account]["global"].roles.values() if r.name == name), None)
    return role.arn if role is not None else f"arn:aws:iam::{account}:role/{name}"


def _iam(operation: str, params: dict[str, Any], account: str, region: str) -> list[Check]:
    """Service Authorization Reference, IAM: role is arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}
    (GetRole, ListAttachedRolePolicies, ListRolePolicies, GetRolePolicy), policy is
    arn:${Partition}:iam::${Account}:policy/${PolicyNameWithPath} (GetPolicy, GetPolicyVersion)."""
    action = f"iam:{operation}"
    if params.get("RoleName"):
        return [Check(action, _iam_role_arn(account, str(params["RoleName"])), {})]
    if params.get("PolicyArn"):
        return [Check(action, str(params["PolicyArn"]), {})]
    if operation == "CreateServiceLinkedRole" and params.get("AWSServiceName"):
        service = str(params["AWSServiceName"])
        return [Check(action, f"arn:aws:iam::{account}:role/aws-service-role/{service}/*", {"iam:awsservicename": service})]
    return [Check(action, "*", {})]


def _sts(operation: str, params: dict[str, Any], account: str, region: str) -> list[Check]:
    """Service Authorization Reference, STS: AssumeRole acts on role
    arn:${Partition}:iam::${Account}:role/${RoleNameWithPath} with sts:ExternalId;
    GetCallerIdentity needs no permission ("GetCallerIdentity" in the STS API Reference)."""
    if operation == "GetCallerIdentity":
        return []
    role_arn = str(params.get("RoleArn") or "*")
    context: dict[str, Any] = {}
    if params.get("ExternalId") is not None:
        context["sts:externalid"] = params["ExternalId"]
    arn = parse_arn(role_arn)
    if arn is not None:
        membership = organization_of(arn.account)
        context["aws:resourceaccount"] = arn.account
        if membership is not None:
            context["aws:resourceorgid"] = membership.organization_id
    return [Check(f"sts:{operation}", role_arn, context)]


def _sns(operation: str, params: dict[str, Any], account: str, region: str) -> list[Check]:
    """Service Authorization Reference, SNS: topic is arn:${Partition}:sns:${Region}:${Account}:${TopicName}
    (GetTopicAttributes, ListSubscriptionsByTopic, Publish, ...); GetSubscriptionAttributes lists
    no resource type, so only "*" grants it."""
    action = f"sns:{operation}"
    if operation == "GetSubscriptionAttributes":
        return [Check(action, "*", {})]
    return [Check(action, str(params.get("TopicArn") or "*"), {})]


def _organizations(operation: str, params: dict[str, Any], account: str, region: str) -> list[Check]:
    """Service Authorization Reference, Organizations: account is
    arn:${Partition}:organizations::${Account}:account/o-${OrganizationId}/${AccountId} (DescribeAccount),
    root .../root/o-${OrganizationId}/r-${RootId} and ou .../ou/o-${OrganizationId}/ou-${OuId}
    (ListAccountsForParent, ListOrganizationalUnitsForParent, ListChildren);
    DescribeOrganization, ListAccounts and ListRoots list none."""
    action = f"organizations:{operation}"
    membership = organization_of(account)
    if membership is None:
        return [Check(action, "*", {})]
    base = f"arn:aws:organizations::{membership.management_account}:"
    org = membership.organization_id
    if params.get("AccountId"):
        return [Check(action, f"{base}account/{org}/{params['AccountId']}", {})]
    parent = str(params.get("ParentId") or "")
    if parent.startswith("r-"):
        return [Check(action, f"{base}root/{org}/{parent}", {})]
    if parent.startswith("ou-"):
        return [Check(action, f"{base}ou/{org}/{parent}", {})]
    return [Check(action, "*", {})]


def _cloudformation(operation: str, params: dict[str, Any], account: str, region: str) -> list[Check]:
    """Service Authorization Reference, CloudFormation: stack is
    arn:${Partition}:cloudformation:${Region}:${Account}:stack/${StackName}/${Id}
    (DescribeStackResource, DescribeStacks, DescribeStackEvents), stackset is
    arn:${Partition}:cloudformation:${Region}:${Account}:stackset/${StackSetName}:${Id}
    (DescribeStackSet, ListStackInstances, DescribeStackInstance). Change set calls are authorized on their
    stack; a change set named by its ARN alone is resolved to its stack's."""
    from localcloud.cfn import api, changesets, stacksets

    action = f"cloudformation:{operation}"
    name = params.get("StackName")
    change_set = str(params.get("ChangeSetName") or "")
    if not name and change_set.startswith("arn:"):
        return [Check(action, changesets.stack_arn_of(account, region, change_set) or change_set, {})]
    if name:
        name = str(name)
        if name.startswith("arn:"):
            return [Check(action, name, {})]
        stack = api.STORE.find(account, region, name)
        stack_id = stack.id if stack is not None else f"arn:aws:cloudformation:{region}:{account}:stack/{name}/"
        return [Check(action, stack_id, {})]
    set_name = params.get("StackSetName")
    if set_name:
        found = stacksets.STORE.find(account, region, str(set_name))
        arn = found.arn if found is not None else f"arn:aws:cloudformation:{region}:{account}:stackset/{set_name}:"
        return [Check(action, arn, {})]
    return [Check(action, "*", {})]


def _supportapp(operation: str, params: dict[str, Any], account: str, region: str) -> list[Check]:
    """Service Authorization Reference, AWS Support App in Slack: no resource types ("*")."""
    return [Check(f"supportapp:{operation}", "*", {})]


RULES: dict[str, Callable[[str, dict[str, Any], str, str], list[Check]]] = {
    "chatbot": _chatbot,
    "supportapp": _supportapp,
    "iam": _iam,
    "sts": _sts,
    "sns": _sns,
    "organizations": _organizations,
    "cloudformation": _cloudformation,
}


def required_checks(service: str, operation: str, params: dict[str, Any], account: str, region: str) -> list[Check]:
    return RULES[service](operation, params, account, region)


# The Organizations API Reference says of each of these: "This operation can be called only from the
# organization's management account or by a member account that is a delegated administrator" (for an
# AWS service). DescribeOrganization is open to every member.
MANAGEMENT_OR_DELEGATED_ADMIN = frozenset({
    "DescribeAccount", "DescribeOrganizationalUnit", "ListAccounts", "ListAccountsForParent", "ListChildren",
    "ListOrganizationalUnitsForParent", "ListParents", "ListRoots",
})


class OrganizationsAccess(NamedTuple):
    """Organizations' answer to a read from `account`: a refusal, or the account whose data answers it."""

    refusal: str | None
    answered_by: str | None


def organizations_access(operation: str, account: str) -> OrganizationsAccess:
    """A member account that is no delegated administrator is refused; a delegated administrator reads the
    organization's data, which moto keeps in the management account's backend."""
    if operation not in MANAGEMENT_OR_DELEGATED_ADMIN:
        return OrganizationsAccess(None, None)
    membership = organization_of(account)
    if membership is None or account == membership.management_account:
        return OrganizationsAccess(None, None)  # outside an organization the service answers AWSOrganizationsNotInUseException
    from moto.organizations.models import organizations_backends

    admins = organizations_backends[membership.management_account]["aws"].admins
    if any(admin.account.id == account for admin in admins):
        return OrganizationsAccess(None, membership.management_account)
    return OrganizationsAccess(
        f"You don't have permissions to access this resource: account {account} is neither the management "
        "account nor a delegated administrator of its organization",
        None,
    )


# -- who is calling --------------------------------------------------------------------------------


def session_caller(access_key: str | None) -> Caller | None:
    """The assumed-role session behind `access_key`, or None (root or IAM user keys, unknown keys)."""
    if not access_key:
        return None
    from moto.iam.models import get_account_id_from
    from moto.sts.models import sts_backends

    account = get_account_id_from(access_key)
    assumed = sts_backends[account]["aws"].get_assumed_role_from_access_key(access_key)
    if assumed is None:
        return None
    role_arn = assumed.role_arn
    return Caller(account, assumed.arn, role_arn, role_arn.rsplit("/", 1)[-1])


def identity_policies(caller: Caller) -> list[Any]:
    """The role's inline policies and the default versions of its attached managed policies."""
    from moto.iam.models import iam_backends

    iam = iam_backends[caller.account]["global"]
    role = next((r for r in iam.roles.values() if r.arn == caller.role_arn), None)
    if role is None:
        return []
    documents: list[Any] = list(role.policies.values())
    for policy in role.managed_policies.values():
        version = next((v for v in policy.versions if v.is_default), None)
        if version is not None:
            documents.append(version.document)
    return documents


def _base_context(caller: Caller, region: str) -> dict[str, Any]:
    context: dict[str, Any] = {
        "aws:principalaccount": caller.account,
        "aws:principalarn": caller.role_arn,
        "aws:principaltype": "AssumedRole",
        "aws:requestedregion": region,
    }
    membership = organization_of(caller.account)
    if membership is not None:
        context["aws:principalorgid"] = membership.organization_id
    return context


def _topic_policy_allows(caller: Caller, check: Check, context: dict[str, Any]) -> Decision | None:
    """The decision of a topic's policy when the topic is in another account (None: same account)."""
    arn = parse_arn(check.resource)
    if arn is None or arn.service != "sns" or arn.account == caller.account:
        return None
    from moto.sns.models import sns_backends

    topic = sns_backends[arn.account][arn.region].topics.get(check.resource)
    if topic is None:
        return None  # the service answers NotFound
    caller_arns = {caller.arn, caller.role_arn, f"arn:aws:iam::{caller.account}:root"}
    return resource_policy_decision(topic.policy, check.action, check.resource, caller_arns, caller.account, context)


def denial(caller: Caller, check: Check, decision: Decision, where: str = "identity-based") -> str:
    reason = (
        f"with an explicit deny in {'an' if where[0] in 'aeiou' else 'a'} {where} policy"
        if decision is Decision.EXPLICIT_DENY
        else f"because no {where} policy allows the {check.action} action"
    )
    return f"User: {caller.arn} is not authorized to perform: {check.action} on resource: {check.resource} {reason}"


def authorize(service: str, operation: str, params: dict[str, Any], caller: Caller, region: str) -> str | None:
    """None when the caller may make this call, else the AccessDenied message."""
    checks = required_checks(service, operation, params, caller.account, region)
    if not checks:
        return None
    documents = identity_policies(caller)
    base = _base_context(caller, region)
    for check in checks:
        context = {**base, **check.context}
        decision = evaluate(documents, check.action, check.resource, context)
        topic = _topic_policy_allows(caller, check, context) if service == "sns" else None
        if decision is Decision.EXPLICIT_DENY or topic is Decision.EXPLICIT_DENY:
            return denial(caller, check, Decision.EXPLICIT_DENY, "identity-based" if decision is Decision.EXPLICIT_DENY else "resource-based")
        if decision is not Decision.ALLOW:
            return denial(caller, check, decision)
        if topic is not None and topic is not Decision.ALLOW:
            return denial(caller, check, topic, "resource-based")
    return None


# -- the wire ----------------------------------------------------------------------------------------

# The error each service answers a denial with (API models; chatbot's model declares no
# AccessDenied shape, and its REST front answers the generic AccessDeniedException, 403).
ERRORS = {
    "chatbot": (403, "AccessDeniedException"),
    "supportapp": (403, "AccessDeniedException"),
    "organizations": (400, "AccessDeniedException"),
    "sns": (403, "AuthorizationError"),
    "iam": (403, "AccessDenied"),
    "sts": (403, "AccessDenied"),
    "cloudformation": (403, "AccessDenied"),
}


def request_params(service: str, environ: dict[str, Any], body: bytes | None) -> dict[str, Any]:
    """The request's members: a form for query services, a JSON document for the others."""
    from localcloud.protocols import protocol_of

    if not body:
        return {}
    text = body.decode("utf-8", "replace")
    if protocol_of(service) in ("query", "ec2"):
        return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}
    try:
        document = json.loads(text)
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}
