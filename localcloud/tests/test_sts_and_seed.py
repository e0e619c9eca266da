"""The seed (organization, roles, topics) and STS AssumeRole with the ExternalId condition."""

from __future__ import annotations

import json
from urllib.parse import unquote

import pytest
from botocore.exceptions import ClientError

from localcloud.tests.helpers import error_code, http_status


def test_organization_has_fixed_active_members_and_not_the_outsider(lc):
    org = lc.client("organizations")
    described = org.describe_organization()["Organization"]
    assert described["Id"] == lc.info["organization_id"] and described["MasterAccountId"] == lc.management
    accounts = {a["Id"]: a for p in org.get_paginator("list_accounts").paginate() for a in p["Accounts"]}
    assert set(accounts) == {lc.management, *lc.members}
    assert lc.members == [f"1000000000{i:02d}" for i in range(1, 7)]
    assert all(a["Status"] == "ACTIVE" for a in accounts.values())
    assert lc.outsider == "999999999999" and lc.outsider not in accounts


def test_member_sees_its_organization(lc):
    out = lc.client("organizations", lc.members[2]).describe_organization()["Organization"]
    assert out["Id"] == lc.info["organization_id"] and out["MasterAccountId"] == lc.management


def test_outsider_has_no_organization(lc):
    with pytest.raises(ClientError) as exc:
        lc.client("organizations", lc.outsider).describe_organization()
    assert error_code(exc) == "AWSOrganizationsNotInUseException"


@pytest.mark.parametrize("which", ["management", "member", "outsider"])
def test_seeded_roles_and_topics(lc, which):
    account = {"management": lc.management, "member": lc.members[3], "outsider": lc.outsider}[which]
    iam = lc.client("iam", account)
    execution = iam.get_role(RoleName="ChatOpsExecutionRole")["Role"]
    trust = execution["AssumeRolePolicyDocument"]
    trust = json.loads(unquote(trust)) if isinstance(trust, str) else trust
    statement = trust["Statement"][0]
    # member-role.yaml's trust, with the provider role of provider.yaml as ProviderRoleArn.
    assert statement["Principal"] == {"AWS": lc.info["provider_role_arn"]}
    assert lc.info["provider_role_arn"] == "arn:aws:iam::123456789012:role/chatops-provider-us-east-1"
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": "chatops-local-external-id"}}
    policy = iam.get_role_policy(RoleName="ChatOpsExecutionRole", PolicyName="chatops-execution")["PolicyDocument"]
    assert "VerifyRequestsWithCloudFormation" in {s["Sid"] for s in policy["Statement"]}

    def trusted_service(name):
        doc = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
        doc = json.loads(unquote(doc)) if isinstance(doc, str) else doc
        return doc["Statement"][0]["Principal"]["Service"]

    assert trusted_service("chatops-chatbot-channel") == "chatbot.amazonaws.com"
    assert trusted_service("chatops-supportapp-channel") == "supportapp.amazonaws.com"
    assert trusted_service("chatops-admin-channel") == "chatbot.amazonaws.com"
    attached = lambda name: [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]]  # noqa: E731
    assert attached("chatops-admin-channel") == ["arn:aws:iam::aws:policy/AdministratorAccess"]
    assert attached("chatops-supportapp-channel") == ["arn:aws:iam::aws:policy/AWSSupportAccess"]
    assert iam.list_role_policies(RoleName="chatops-chatbot-channel")["PolicyNames"] == ["NotificationsOnly"]
    admin = iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")["Policy"]
    assert admin["PolicyName"] == "AdministratorAccess"

    for region in ("us-east-1", "eu-west-1"):
        topics = [t["TopicArn"] for t in lc.client("sns", account, region=region).list_topics()["Topics"]]
        assert f"arn:aws:sns:{region}:{account}:chatops-alerts" in topics
        assert lc.account(account)["topics"][region] == f"arn:aws:sns:{region}:{account}:chatops-alerts"


def assume(lc, account, **kwargs):
    args = {"RoleArn": f"arn:aws:iam::{account}:role/ChatOpsExecutionRole", "RoleSessionName": "ts"}
    args.update(kwargs)
    return lc.provider_client("sts").assume_role(**args)


def test_assume_role_with_external_id_acts_in_the_target_account(lc):
    for account in (lc.members[0], lc.members[5]):
        creds = assume(lc, account, ExternalId="chatops-local-external-id")["Credentials"]
        import boto3

        sts = boto3.client("sts", endpoint_url=lc.endpoint, region_name="us-east-1", aws_access_key_id=creds["AccessKeyId"],
                           aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
        identity = sts.get_caller_identity()
        assert identity["Account"] == account
        assert identity["Arn"] == f"arn:aws:sts::{account}:assumed-role/ChatOpsExecutionRole/ts"


def test_the_provider_role_assumes_no_role_outside_the_organization(lc):
    """provider.yaml's AssumeMemberExecutionRole holds only for roles of the organization (aws:ResourceOrgID)."""
    with pytest.raises(ClientError) as exc:
        assume(lc, lc.outsider, ExternalId="chatops-local-external-id")
    assert error_code(exc) == "AccessDenied" and http_status(exc) == 403


@pytest.mark.parametrize("external_id", ["wrong-external-id", None])
def test_wrong_or_missing_external_id_is_access_denied(lc, external_id):
    kwargs = {"ExternalId": external_id} if external_id else {}
    with pytest.raises(ClientError) as exc:
        assume(lc, lc.members[1], **kwargs)
    assert error_code(exc) == "AccessDenied" and http_status(exc) == 403
    assert "sts:AssumeRole" in str(exc.value)


def test_missing_role_is_access_denied(lc):
    with pytest.raises(ClientError) as exc:
        lc.client("sts").assume_role(RoleArn=f"arn:aws:iam::{lc.members[1]}:role/NoSuchRole", RoleSessionName="ts", ExternalId="xx")
    assert error_code(exc) == "AccessDenied"


def test_member_cannot_hop_to_another_member(lc):
    """Only the provider's role is trusted: a member's credentials are refused."""
    sts = lc.client("sts", lc.members[0])
    with pytest.raises(ClientError) as exc:
        sts.assume_role(RoleArn=f"arn:aws:iam::{lc.members[1]}:role/ChatOpsExecutionRole", RoleSessionName="ts", ExternalId="chatops-local-external-id")
    assert error_code(exc) == "AccessDenied"
    assert f"arn:aws:sts::{lc.members[0]}:assumed-role/OrganizationAccountAccessRole" in str(exc.value)


def test_service_roles_cannot_be_assumed_by_users(lc):
    with pytest.raises(ClientError) as exc:
        lc.client("sts").assume_role(RoleArn=lc.account(lc.members[0])["chatbot_role_arn"], RoleSessionName="ts")
    assert error_code(exc) == "AccessDenied"


def test_trust_policy_conditions(lc, unique):
    """StringLike on the ExternalId and a Deny statement, on a role made through IAM."""
    iam = lc.client("iam", lc.members[2])
    name = unique("Cond")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": lc.management}, "Action": "sts:AssumeRole",
             "Condition": {"StringLike": {"sts:ExternalId": "team-*"}}},
            {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:*",
             "Condition": {"StringEquals": {"sts:ExternalId": "team-banned"}}},
        ],
    }))
    arn = f"arn:aws:iam::{lc.members[2]}:role/{name}"
    sts = lc.client("sts")
    assert sts.assume_role(RoleArn=arn, RoleSessionName="ts", ExternalId="team-blue")["Credentials"]["AccessKeyId"]
    for external_id in ("team-banned", "other"):
        with pytest.raises(ClientError) as exc:
            sts.assume_role(RoleArn=arn, RoleSessionName="ts", ExternalId=external_id)
        assert error_code(exc) == "AccessDenied"


def test_sessions_lists_the_credentials_assume_role_issued(lc):
    account = lc.members[2]
    out = lc.provider_client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{lc.info['execution_role_name']}",
        RoleSessionName="audited",
        ExternalId=lc.info["external_id"],
    )["Credentials"]
    status, answer = lc.control("GET", f"sessions?account={account}")
    assert status == 200
    issued = {s["access_key_id"]: s for s in answer["sessions"]}
    assert issued[out["AccessKeyId"]]["secret_access_key"] == out["SecretAccessKey"]
    assert issued[out["AccessKeyId"]]["session_token"] == out["SessionToken"]
    assert issued[out["AccessKeyId"]]["session_name"] == "audited"
    assert lc.control("GET", "sessions?account=555555555555") == (200, {"sessions": []})
    assert lc.control("GET", "sessions")[0] == 400
