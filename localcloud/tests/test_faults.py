"""Fault injection: each service's throttling error as its SDK sees it, 5xx errors, latency, counts and rates.

Faults are narrowed to one account or operation so they cannot hit another
test's calls, and every test clears what it added.
"""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from localcloud.tests.helpers import CHATBOT_REGION, error_code, http_status


@pytest.fixture(autouse=True)
def clear_faults(lc):
    yield
    lc.control("DELETE", "faults")


def test_chatbot_throttle_for_the_next_two_calls_then_success(lc):
    account = lc.members[0]
    lc.add_fault(service="chatbot", operation="DescribeSlackWorkspaces", account=account, kind="throttle", count=2)
    chatbot = lc.client("chatbot", account)
    for _ in range(2):
        with pytest.raises(ClientError) as exc:
            chatbot.describe_slack_workspaces()
        assert error_code(exc) == "TooManyRequestsException" and http_status(exc) == 429
    assert chatbot.describe_slack_workspaces()["SlackWorkspaces"]
    assert lc.control("GET", "faults")[1]["faults"] == []


def test_sdk_retries_injected_throttling(lc):
    """botocore's standard retry mode treats the injected errors as retryable throttling."""
    account = lc.members[1]
    lc.add_fault(service="supportapp", operation="GetAccountAlias", account=account, kind="throttle", count=2)
    out = lc.client("support-app", account, retries=3).get_account_alias()
    assert out["ResponseMetadata"]["RetryAttempts"] == 2


def test_fault_for_one_account_leaves_the_others_alone(lc):
    lc.add_fault(service="chatbot", account=lc.members[2], kind="error", status=500, count=1)
    assert lc.client("chatbot", lc.members[3]).describe_slack_workspaces()["SlackWorkspaces"]
    with pytest.raises(ClientError) as exc:
        lc.client("chatbot", lc.members[2]).describe_slack_workspaces()
    assert error_code(exc) == "InternalServiceError" and http_status(exc) == 500


@pytest.mark.parametrize(
    "service,client_name,call,code,status",
    [
        ("sts", "sts", lambda c: c.get_caller_identity(), "Throttling", 400),
        ("iam", "iam", lambda c: c.get_role(RoleName="ChatOpsExecutionRole"), "Throttling", 400),
        ("sns", "sns", lambda c: c.list_topics(), "Throttling", 400),
        ("organizations", "organizations", lambda c: c.describe_organization(), "TooManyRequestsException", 400),
        ("supportapp", "support-app", lambda c: c.list_slack_workspace_configurations(), "TooManyRequestsException", 429),
    ],
)
def test_throttling_error_shape_per_service(lc, service, client_name, call, code, status):
    account = lc.members[4]
    lc.add_fault(service=service, account=account, kind="throttle", count=1)
    client = lc.client(client_name, account)
    with pytest.raises(ClientError) as exc:
        call(client)
    assert error_code(exc) == code and http_status(exc) == status
    call(client)


def test_throttle_assume_role_by_operation(lc):
    lc.add_fault(service="sts", operation="AssumeRole", kind="throttle", count=1)
    sts = lc.client("sts")
    assert sts.get_caller_identity()["Account"] == lc.management  # other operations pass
    args = {"RoleArn": f"arn:aws:iam::{lc.members[0]}:role/OrganizationAccountAccessRole", "RoleSessionName": "faults"}
    with pytest.raises(ClientError) as exc:
        sts.assume_role(**args)
    assert error_code(exc) == "Throttling"
    assert sts.assume_role(**args)["Credentials"]


@pytest.mark.parametrize("status,code", [(500, "InternalServerException"), (503, "ServiceUnavailableException")])
def test_server_errors(lc, status, code):
    account = lc.members[5]
    lc.add_fault(service="supportapp", account=account, kind="error", status=status, count=1)
    with pytest.raises(ClientError) as exc:
        lc.client("support-app", account).get_account_alias()
    assert error_code(exc) == code and http_status(exc) == status


def test_latency(lc):
    account = lc.members[0]
    chatbot = lc.client("chatbot", account)
    lc.add_fault(service="chatbot", operation="DescribeSlackChannelConfigurations", account=account, kind="latency", latency_ms=400, count=1)
    started = time.monotonic()
    chatbot.describe_slack_channel_configurations()
    slow = time.monotonic() - started
    started = time.monotonic()
    chatbot.describe_slack_channel_configurations()
    fast = time.monotonic() - started
    assert slow >= 0.4 and fast < 0.2


def test_rates(lc):
    account = lc.members[1]
    chatbot = lc.client("chatbot", account)
    never = lc.add_fault(service="chatbot", operation="GetAccountPreferences", account=account, kind="throttle", rate=0.0)
    for _ in range(5):
        chatbot.get_account_preferences()
    lc.control("DELETE", f"faults/{never}")
    lc.add_fault(service="chatbot", operation="GetAccountPreferences", account=account, kind="throttle", rate=0.5)
    throttled = 0
    for _ in range(60):
        try:
            chatbot.get_account_preferences()
        except ClientError as err:
            assert err.response["Error"]["Code"] == "TooManyRequestsException"
            throttled += 1
    assert 10 <= throttled <= 50  # binomial(60, 0.5): outside this range about once in 10^7 runs
    faults = lc.control("GET", "faults")[1]["faults"]
    assert faults[0]["fired"] == throttled and faults[0]["rate"] == 0.5


def test_listing_and_clearing(lc):
    first = lc.add_fault(service="iam", account=lc.members[2], kind="throttle", count=3)
    lc.add_fault(service="sns", account=lc.members[2], kind="error", status=502, count=1)
    with pytest.raises(ClientError):
        lc.client("iam", lc.members[2]).get_role(RoleName="ChatOpsExecutionRole")
    faults = {f["id"]: f for f in lc.control("GET", "faults")[1]["faults"]}
    assert faults[first]["remaining"] == 2 and faults[first]["fired"] == 1 and len(faults) == 2
    assert lc.control("DELETE", f"faults/{first}")[0] == 200
    assert lc.control("DELETE", f"faults/{first}")[0] == 404
    status, out = lc.control("DELETE", "faults")
    assert status == 200 and out["cleared"] == 1
    assert lc.control("GET", "faults")[1]["faults"] == []


@pytest.mark.parametrize(
    "spec",
    [
        {"service": "chatbot"},
        {"service": "chatbot", "kind": "explode"},
        {"service": "chatbot", "kind": "throttle", "count": 0},
        {"service": "chatbot", "kind": "throttle", "rate": 1.5},
        {"service": "chatbot", "kind": "throttle", "count": 1, "rate": 0.5},
        {"service": "chatbot", "kind": "error", "status": 404},
        {"service": "chatbot", "kind": "latency"},
        {"service": "chatbot", "kind": "expired"},
        {"service": "chatbot", "kind": "throttle", "each_operation": True},
        {"service": "chatbot", "kind": "throttle", "count": 1, "each_operation": "yes"},
        ["not", "an", "object"],
    ],
)
def test_bad_fault_specs_are_400(lc, spec):
    status, out = lc.control("POST", "faults", spec)
    assert status == 400 and out["error"]


def test_each_operation_fails_every_operation_count_times(lc):
    account = lc.members[3]
    lc.add_fault(service="chatbot", account=account, kind="throttle", count=2, each_operation=True)
    chatbot = lc.client("chatbot", account)
    for call in (chatbot.describe_slack_workspaces, chatbot.get_account_preferences):
        for _ in range(2):
            with pytest.raises(ClientError) as exc:
                call()
            assert error_code(exc) == "TooManyRequestsException"
        call()
        call()
    (fault,) = lc.control("GET", "faults")[1]["faults"]
    assert fault["fired_by_operation"] == {"DescribeSlackWorkspaces": 2, "GetAccountPreferences": 2}
    assert fault["fired"] == 4


def test_expired_fails_only_sessions_issued_before_it(lc):
    account = lc.members[4]
    stale = lc.client("chatbot", account)  # its session is issued now, before the fault
    stale.describe_slack_workspaces()
    lc.add_fault(service="chatbot", account=account, kind="expired")
    with pytest.raises(ClientError) as exc:
        stale.describe_slack_workspaces()
    assert error_code(exc) == "ExpiredTokenException" and http_status(exc) == 403
    lc.client("chatbot").describe_slack_workspaces()  # the management account's long-term key never expires
    fresh = lc.provider_client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{lc.info['execution_role_name']}",
        RoleSessionName="fresh",
        ExternalId=lc.info["external_id"],
    )["Credentials"]
    import boto3

    chatbot = boto3.session.Session().client(
        "chatbot", endpoint_url=lc.endpoint, region_name=CHATBOT_REGION,
        aws_access_key_id=fresh["AccessKeyId"], aws_secret_access_key=fresh["SecretAccessKey"],
        aws_session_token=fresh["SessionToken"],
    )
    assert chatbot.describe_slack_workspaces()["SlackWorkspaces"]


def test_expired_error_shape_of_query_services(lc):
    account = lc.members[5]
    iam = lc.client("iam", account)
    lc.add_fault(service="iam", account=account, kind="expired", count=1)
    with pytest.raises(ClientError) as exc:
        iam.get_role(RoleName=lc.info["execution_role_name"])
    assert error_code(exc) == "ExpiredToken" and http_status(exc) == 403
    iam.get_role(RoleName=lc.info["execution_role_name"])
