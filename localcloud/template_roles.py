"""The provider's IAM roles as cfn-templates/ declares them: provider.yaml's ProviderRole, member-role.yaml's roles.

The seed reads the role resources from the real templates and resolves their
intrinsics with the local cloud's CloudFormation resolver (parameters, pseudo
parameters, and the few sibling resources a role policy names, whose ARNs are
built the way CloudFormation reports them), so the policies the local cloud
enforces are the ones a platform team deploys, word for word.
"""

from __future__ import annotations

import os
from typing import Any

from localcloud.cfn import template as tpl

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROVIDER_TEMPLATE = os.path.join(ROOT, "cfn-templates", "provider.yaml")
MEMBER_TEMPLATE = os.path.join(ROOT, "cfn-templates", "member-role.yaml")


def _arn_of(resource_type: str, properties: dict[str, Any], account: str, region: str) -> str:
    """Fn::GetAtt X.Arn of the sibling resources the role policies name (CloudFormation resource reference)."""
    if resource_type == "AWS::Logs::LogGroup":
        return f"arn:aws:logs:{region}:{account}:log-group:{properties['LogGroupName']}:*"
    if resource_type == "AWS::SQS::Queue":
        return f"arn:aws:sqs:{region}:{account}:{properties['QueueName']}"
    if resource_type == "AWS::IAM::Role":
        return f"arn:aws:iam::{account}:role{properties.get('Path', '/')}{properties['RoleName']}"
    raise tpl.TemplateError(f"no ARN known for a {resource_type}")


def _ref_of(resource_type: str, properties: dict[str, Any], account: str, region: str) -> str:
    if resource_type == "AWS::SNS::Topic":
        return f"arn:aws:sns:{region}:{account}:{properties['TopicName']}"
    if resource_type == "AWS::SQS::Queue":
        return f"https://sqs.{region}.amazonaws.com/{account}/{properties['QueueName']}"
    if resource_type in ("AWS::IAM::Role", "AWS::Lambda::Function"):
        return str(properties.get("RoleName") or properties.get("FunctionName"))
    if resource_type == "AWS::Logs::LogGroup":
        return str(properties["LogGroupName"])
    if resource_type == "AWS::IAM::ManagedPolicy":
        return f"arn:aws:iam::{account}:policy{properties.get('Path', '/')}{properties['ManagedPolicyName']}"
    raise tpl.TemplateError(f"no physical id known for a {resource_type}")


def resolve_resources(path: str, parameters: dict[str, str], account: str, region: str, logical_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The resolved Properties of `logical_ids` in the template at `path`."""
    with open(path) as f:
        template = tpl.load(f.read())
    values = tpl.resolve_parameters(template, parameters)
    pseudo = {"AWS::AccountId": account, "AWS::Region": region, "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com",
              "AWS::StackName": os.path.splitext(os.path.basename(path))[0]}
    resources = template["Resources"]
    ctx: tpl.Context

    def properties_of(logical: str) -> dict[str, Any]:
        return ctx.resolve(resources[logical].get("Properties") or {})

    def ref(logical: str) -> Any:
        return _ref_of(resources[logical]["Type"], properties_of(logical), account, region)

    def getatt(logical: str, attribute: str) -> Any:
        if attribute != "Arn":
            raise tpl.TemplateError(f"Fn::GetAtt {logical}.{attribute} is not resolved by the seed")
        return _arn_of(resources[logical]["Type"], properties_of(logical), account, region)

    ctx = tpl.Context(template, values, pseudo, ref=ref, getatt=getatt)
    return {logical: properties_of(logical) for logical in logical_ids if ctx.active(logical)}


def create_managed_policy(iam: Any, properties: dict[str, Any]) -> Any:
    """A customer managed policy from the Properties of an AWS::IAM::ManagedPolicy."""
    import json

    return iam.create_policy(
        description=properties.get("Description", ""), path=properties.get("Path", "/"),
        policy_document=json.dumps(properties["PolicyDocument"]), policy_name=properties["ManagedPolicyName"], tags=[],
    )


def create_role(iam: Any, properties: dict[str, Any]) -> Any:
    """An IAM role from the Properties of an AWS::IAM::Role (inline Policies and ManagedPolicyArns included)."""
    import json

    role = iam.create_role(
        role_name=properties["RoleName"],
        assume_role_policy_document=json.dumps(properties["AssumeRolePolicyDocument"]),
        path=properties.get("Path", "/"),
        permissions_boundary=properties.get("PermissionsBoundary"),
        description=properties.get("Description", ""),
        tags=properties.get("Tags") or [],
        max_session_duration=str(properties.get("MaxSessionDuration", 3600)),
    )
    for policy in properties.get("Policies") or []:
        iam.put_role_policy(role.name, policy["PolicyName"], json.dumps(policy["PolicyDocument"]))
    for arn in properties.get("ManagedPolicyArns") or []:
        iam.attach_role_policy(arn, role.name)
    return role
