"""AWS Support App: all ten operations with their organization rules, quotas and validation."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from localcloud.tests.helpers import error_code, http_status

TEAM = "T0CHATOPS1"


def channel_args(lc, account, channel, **extra):
    args = {
        "teamId": TEAM,
        "channelId": channel,
        "channelName": "support",
        "channelRoleArn": lc.account(account)["supportapp_role_arn"],
        "notifyOnCaseSeverity": "high",
        "notifyOnCreateOrReopenCase": True,
    }
    args.update(extra)
    return args


def workspaces(client):
    return {w["teamId"]: w for w in client.list_slack_workspace_configurations()["slackWorkspaceConfigurations"]}


def test_management_has_the_workspace_and_members_start_empty(lc):
    mgmt = workspaces(lc.client("support-app"))
    assert mgmt[TEAM]["teamName"] == "chatops-local" and mgmt[TEAM]["allowOrganizationMemberAccount"] is True
    assert workspaces(lc.client("support-app", lc.members[5])) == {}


def test_member_registers_the_organization_workspace(lc):
    member = lc.client("support-app", lc.members[0])
    out = member.register_slack_workspace_for_organization(teamId=TEAM)
    assert (out["teamId"], out["teamName"], out["accountType"]) == (TEAM, "chatops-local", "member")
    assert TEAM in workspaces(member)
    again = member.register_slack_workspace_for_organization(teamId=TEAM)
    assert again["accountType"] == "member"
    assert len(workspaces(member)) == 1


def test_management_registers_as_management(lc):
    out = lc.client("support-app").register_slack_workspace_for_organization(teamId=TEAM)
    assert out["accountType"] == "management"


def test_management_cannot_register_a_workspace_it_has_not_authorized(lc):
    with pytest.raises(ClientError) as exc:
        lc.client("support-app").register_slack_workspace_for_organization(teamId="T0NEVERSEEN")
    assert error_code(exc) == "ResourceNotFoundException" and http_status(exc) == 404


def test_outside_the_organization_is_a_conflict(lc):
    with pytest.raises(ClientError) as exc:
        lc.client("support-app", lc.outsider).register_slack_workspace_for_organization(teamId=TEAM)
    assert error_code(exc) == "ConflictException" and http_status(exc) == 409
    assert "organization" in str(exc.value)


def test_member_waits_for_the_management_account(lc):
    status, _ = lc.control("POST", "slack-authorize", {"service": "supportapp", "account": lc.management, "team_id": "T0NOTSHARED"})
    assert status == 200
    member = lc.client("support-app", lc.members[4])
    with pytest.raises(ClientError) as exc:
        member.register_slack_workspace_for_organization(teamId="T0NOTSHARED")
    assert error_code(exc) == "ConflictException" and "management account" in str(exc.value)
    assert lc.client("support-app").register_slack_workspace_for_organization(teamId="T0NOTSHARED")["accountType"] == "management"
    assert member.register_slack_workspace_for_organization(teamId="T0NOTSHARED")["accountType"] == "member"


def test_channel_lifecycle(lc):
    account = lc.members[0]
    client = lc.client("support-app", account)
    client.register_slack_workspace_for_organization(teamId=TEAM)
    client.create_slack_channel_configuration(**channel_args(lc, account, "C0SUPPORT1"))
    listed = client.list_slack_channel_configurations()["slackChannelConfigurations"]
    mine = [c for c in listed if c["channelId"] == "C0SUPPORT1"]
    assert len(mine) == 1 and mine[0]["notifyOnCaseSeverity"] == "high" and mine[0]["notifyOnCreateOrReopenCase"] is True
    assert mine[0]["channelRoleArn"] == lc.account(account)["supportapp_role_arn"]

    updated = client.update_slack_channel_configuration(teamId=TEAM, channelId="C0SUPPORT1", notifyOnCaseSeverity="all", notifyOnResolveCase=True, channelName="support-2")
    assert updated["notifyOnCaseSeverity"] == "all" and updated["notifyOnResolveCase"] is True
    assert updated["notifyOnCreateOrReopenCase"] is True and updated["channelName"] == "support-2"

    with pytest.raises(ClientError) as exc:
        client.create_slack_channel_configuration(**channel_args(lc, account, "C0SUPPORT1"))
    assert error_code(exc) == "ConflictException"
    with pytest.raises(ClientError) as exc:
        client.delete_slack_workspace_configuration(teamId=TEAM)
    assert error_code(exc) == "ConflictException"

    client.delete_slack_channel_configuration(teamId=TEAM, channelId="C0SUPPORT1")
    assert [c for c in client.list_slack_channel_configurations()["slackChannelConfigurations"] if c["channelId"] == "C0SUPPORT1"] == []
    for call in (
        lambda: client.delete_slack_channel_configuration(teamId=TEAM, channelId="C0SUPPORT1"),
        lambda: client.update_slack_channel_configuration(teamId=TEAM, channelId="C0SUPPORT1", channelName="x"),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == "ResourceNotFoundException" and http_status(exc) == 404


def test_channel_needs_the_workspace_in_the_account(lc):
    account = lc.members[5]
    with pytest.raises(ClientError) as exc:
        lc.client("support-app", account).create_slack_channel_configuration(**channel_args(lc, account, "C0NOWS"))
    assert error_code(exc) == "ConflictException"


def test_severity_high_or_all_needs_a_notify_flag(lc):
    account = lc.members[0]
    client = lc.client("support-app", account)
    client.register_slack_workspace_for_organization(teamId=TEAM)
    for severity in ("high", "all"):
        with pytest.raises(ClientError) as exc:
            client.create_slack_channel_configuration(**channel_args(lc, account, "C0NOFLAGS", notifyOnCaseSeverity=severity, notifyOnCreateOrReopenCase=False))
        assert error_code(exc) == "ValidationException" and http_status(exc) == 400
    client.create_slack_channel_configuration(**channel_args(lc, account, "C0NONE", notifyOnCaseSeverity="none", notifyOnCreateOrReopenCase=False))
    with pytest.raises(ClientError) as exc:
        client.update_slack_channel_configuration(teamId=TEAM, channelId="C0NONE", notifyOnCaseSeverity="high")
    assert error_code(exc) == "ValidationException"
    unchanged = [c for c in client.list_slack_channel_configurations()["slackChannelConfigurations"] if c["channelId"] == "C0NONE"]
    assert unchanged[0]["notifyOnCaseSeverity"] == "none"
    client.delete_slack_channel_configuration(teamId=TEAM, channelId="C0NONE")


def test_twenty_channels_per_account_and_paging(lc):
    account = lc.members[1]
    client = lc.client("support-app", account)
    client.register_slack_workspace_for_organization(teamId=TEAM)
    for i in range(20):
        client.create_slack_channel_configuration(**channel_args(lc, account, f"C0QUOTA{i:02d}"))
    with pytest.raises(ClientError) as exc:
        client.create_slack_channel_configuration(**channel_args(lc, account, "C0QUOTA20"))
    assert error_code(exc) == "ServiceQuotaExceededException" and http_status(exc) == 402

    first = client.list_slack_channel_configurations()
    assert "nextToken" in first and len(first["slackChannelConfigurations"]) < 20
    second = client.list_slack_channel_configurations(nextToken=first["nextToken"])
    ids = [c["channelId"] for c in first["slackChannelConfigurations"] + second["slackChannelConfigurations"]]
    assert ids == [f"C0QUOTA{i:02d}" for i in range(20)] and "nextToken" not in second
    with pytest.raises(ClientError) as exc:
        client.list_slack_channel_configurations(nextToken="garbage")
    assert error_code(exc) == "ValidationException"
    for i in range(20):
        client.delete_slack_channel_configuration(teamId=TEAM, channelId=f"C0QUOTA{i:02d}")
    assert client.list_slack_channel_configurations()["slackChannelConfigurations"] == []


def test_five_workspaces_per_account(lc):
    account = lc.members[2]
    client = lc.client("support-app", account)
    client.register_slack_workspace_for_organization(teamId=TEAM)
    for i in range(2, 6):
        status, _ = lc.control("POST", "slack-authorize", {"service": "supportapp", "account": account, "team_id": f"T0WS{i}"})
        assert status == 200
    assert len(workspaces(client)) == 5
    status, out = lc.control("POST", "slack-authorize", {"service": "supportapp", "account": account, "team_id": "T0WS6"})
    assert status == 409 and out["code"] == "ServiceQuotaExceededException"
    status, _ = lc.control("POST", "slack-authorize", {"service": "supportapp", "account": lc.management, "team_id": "T0WS6", "for_organization": True})
    assert status == 200
    with pytest.raises(ClientError) as exc:
        client.register_slack_workspace_for_organization(teamId="T0WS6")
    assert error_code(exc) == "ServiceQuotaExceededException"
    client.delete_slack_workspace_configuration(teamId="T0WS5")
    assert client.register_slack_workspace_for_organization(teamId="T0WS6")["accountType"] == "member"
    with pytest.raises(ClientError) as exc:
        client.delete_slack_workspace_configuration(teamId="T0WS5")
    assert error_code(exc) == "ResourceNotFoundException"


def test_account_alias(lc):
    client = lc.client("support-app", lc.members[3])
    assert "accountAlias" not in client.get_account_alias()
    with pytest.raises(ClientError) as exc:
        client.delete_account_alias()
    assert error_code(exc) == "ResourceNotFoundException"
    client.put_account_alias(accountAlias="Team Blue - prod_1")
    assert client.get_account_alias()["accountAlias"] == "Team Blue - prod_1"
    other = lc.client("support-app", lc.members[4])
    assert "accountAlias" not in other.get_account_alias()
    client.delete_account_alias()
    assert "accountAlias" not in client.get_account_alias()


@pytest.mark.parametrize("alias", ["bad!alias", "x" * 31, ""])
def test_account_alias_pattern_and_length(lc, alias):
    with pytest.raises(ClientError) as exc:
        lc.client("support-app", lc.members[3], validate=False).put_account_alias(accountAlias=alias)
    assert error_code(exc) == "ValidationException" and "accountAlias" in str(exc.value)


INVALID_CHANNEL = [
    ("channelRoleArn", "arn:aws:iam::12:role/short"),
    ("channelRoleArn", "arn:aws:iam::123456789012:user/not-a-role-at-all"),
    ("notifyOnCaseSeverity", "medium"),
    ("channelId", "has space"),
    ("teamId", ""),
    ("channelName", "x" * 257),
]


@pytest.mark.parametrize("member,value", INVALID_CHANNEL)
def test_channel_validation_names_the_member(lc, member, value):
    account = lc.members[0]
    with pytest.raises(ClientError) as exc:
        lc.client("support-app", account, validate=False).create_slack_channel_configuration(**channel_args(lc, account, "C0VALID", **{member: value}))
    assert error_code(exc) == "ValidationException" and f"'{member}'" in str(exc.value)


def test_channel_role_must_exist(lc):
    account = lc.members[0]
    client = lc.client("support-app", account)
    client.register_slack_workspace_for_organization(teamId=TEAM)
    with pytest.raises(ClientError) as exc:
        client.create_slack_channel_configuration(**channel_args(lc, account, "C0NOROLE", channelRoleArn=f"arn:aws:iam::{account}:role/Missing"))
    assert error_code(exc) == "ValidationException" and "channelRoleArn" in str(exc.value)


@pytest.mark.parametrize("missing", ["teamId", "channelId", "channelRoleArn", "notifyOnCaseSeverity"])
def test_channel_required_members(lc, missing):
    account = lc.members[0]
    args = channel_args(lc, account, "C0REQ")
    del args[missing]
    with pytest.raises(ClientError) as exc:
        lc.client("support-app", account, validate=False).create_slack_channel_configuration(**args)
    assert error_code(exc) == "ValidationException" and f"'{missing}'" in str(exc.value) and "must not be null" in str(exc.value)


@pytest.mark.parametrize("flag", ["notifyOnAddCorrespondenceToCase", "notifyOnCreateOrReopenCase", "notifyOnResolveCase"])
def test_severity_none_refuses_a_notify_flag_set_true(lc, flag):
    account = lc.members[0]
    client = lc.client("support-app", account)
    client.register_slack_workspace_for_organization(teamId=TEAM)
    args = channel_args(lc, account, "C0NONETRUE", notifyOnCaseSeverity="none", notifyOnCreateOrReopenCase=False)
    args[flag] = True
    with pytest.raises(ClientError) as exc:
        client.create_slack_channel_configuration(**args)
    assert error_code(exc) == "ValidationException" and http_status(exc) == 400 and flag in str(exc.value)
    assert [c for c in client.list_slack_channel_configurations()["slackChannelConfigurations"] if c["channelId"] == "C0NONETRUE"] == []

    client.create_slack_channel_configuration(**channel_args(lc, account, "C0NONETRUE"))
    with pytest.raises(ClientError) as exc:
        client.update_slack_channel_configuration(teamId=TEAM, channelId="C0NONETRUE", notifyOnCaseSeverity="none", **{flag: True})
    assert error_code(exc) == "ValidationException" and flag in str(exc.value)
    # Flags left out of an update keep their values (the API reference), so `none` alone is accepted.
    out = client.update_slack_channel_configuration(teamId=TEAM, channelId="C0NONETRUE", notifyOnCaseSeverity="none")
    assert out["notifyOnCaseSeverity"] == "none"
    client.delete_slack_channel_configuration(teamId=TEAM, channelId="C0NONETRUE")


def test_notify_flags_left_out_read_back_false(lc):
    account = lc.members[0]
    client = lc.client("support-app", account)
    client.register_slack_workspace_for_organization(teamId=TEAM)
    args = channel_args(lc, account, "C0DEFAULTS", notifyOnCaseSeverity="none")
    del args["notifyOnCreateOrReopenCase"]
    client.create_slack_channel_configuration(**args)
    listed = [c for c in client.list_slack_channel_configurations()["slackChannelConfigurations"] if c["channelId"] == "C0DEFAULTS"]
    assert len(listed) == 1
    assert {f: listed[0].get(f) for f in ("notifyOnAddCorrespondenceToCase", "notifyOnCreateOrReopenCase", "notifyOnResolveCase")} == {
        "notifyOnAddCorrespondenceToCase": False, "notifyOnCreateOrReopenCase": False, "notifyOnResolveCase": False,
    }
    client.delete_slack_channel_configuration(teamId=TEAM, channelId="C0DEFAULTS")


def test_update_or_delete_in_a_workspace_not_added_is_a_conflict(lc):
    account = lc.members[0]
    client = lc.client("support-app", account)
    assert "T0NEVERADDED" not in workspaces(client)
    for call in (
        lambda: client.update_slack_channel_configuration(teamId="T0NEVERADDED", channelId="C0ANY", channelName="x"),
        lambda: client.delete_slack_channel_configuration(teamId="T0NEVERADDED", channelId="C0ANY"),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == "ConflictException" and http_status(exc) == 409
        assert "T0NEVERADDED" in str(exc.value)
