"""`localcloud/serve` itself: the JSON line, seed files, clean stop, errors on stderr with a non-zero exit."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time

import boto3
import pytest
import yaml

from localcloud.tests.helpers import SERVE, Cloud, start_server, stop_server

SERVE_KEYS = {
    "endpoint", "region", "management_account", "member_accounts", "outside_account", "organization_id",
    "execution_role_name", "external_id", "slack_team_id", "accounts",
}
ACCOUNT_KEYS = {"id", "name", "chatbot_role_arn", "supportapp_role_arn", "admin_role_arn", "topics"}


def test_default_seed_json_line(cloud):
    assert SERVE_KEYS <= set(cloud)
    assert cloud["endpoint"].startswith("http://127.0.0.1:")
    assert cloud["management_account"] == "123456789012"
    assert cloud["member_accounts"] == [f"10000000000{i}" for i in range(1, 7)]
    assert cloud["outside_account"] == "999999999999"
    assert cloud["execution_role_name"] == "ChatOpsExecutionRole" and cloud["external_id"] == "chatops-local-external-id"
    assert cloud["slack_team_id"] == "T0CHATOPS1" and cloud["organization_id"].startswith("o-")
    assert [a["id"] for a in cloud["accounts"]] == ["123456789012", *cloud["member_accounts"], "999999999999"]
    for account in cloud["accounts"]:
        assert ACCOUNT_KEYS <= set(account)
        assert set(account["topics"]) == {"us-east-1", "eu-west-1"}
        assert account["admin_role_arn"] == f"arn:aws:iam::{account['id']}:role/chatops-admin-channel"


def test_custom_seed_file_yaml_with_explicit_members(tmp_path):
    seed = tmp_path / "seed.yaml"
    seed.write_text(yaml.safe_dump({
        "members": [{"id": "222222222222", "name": "payments"}, {"id": "333333333333", "name": "search"}],
        "regions": ["us-west-2"],
        "outside_accounts": [],
    }))
    proc, info = start_server("--seed", str(seed))
    try:
        assert info["member_accounts"] == ["222222222222", "333333333333"] and info["outside_account"] is None
        lc = Cloud(info)
        names = {a["Id"]: a["Name"] for a in lc.client("organizations").list_accounts()["Accounts"]}
        assert names["222222222222"] == "payments" and names["333333333333"] == "search"
        sns = lc.client("sns", "333333333333", region="us-west-2")
        assert [t["TopicArn"] for t in sns.list_topics()["Topics"]] == ["arn:aws:sns:us-west-2:333333333333:chatops-alerts"]
    finally:
        assert stop_server(proc) == 0


def test_hundred_members_start_fast_and_stdout_is_one_line(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"member_count": 100}))
    started = time.monotonic()
    proc, info = start_server("--seed", str(seed))
    elapsed = time.monotonic() - started
    try:
        assert len(info["member_accounts"]) == 100 and info["member_accounts"][-1] == "100000000100"
        assert elapsed < 10, f"startup took {elapsed:.1f}s"
        lc = Cloud(info)
        creds = lc.credentials("100000000100")
        identity = boto3.client("sts", endpoint_url=lc.endpoint, region_name="us-east-1", **creds).get_caller_identity()
        assert identity["Account"] == "100000000100"
    finally:
        assert stop_server(proc) == 0
        assert proc.stdout is not None and proc.stdout.read() == ""  # nothing after the JSON line


def test_sigint_stops_cleanly_too():
    proc, _ = start_server()
    proc.send_signal(2)
    assert proc.wait(timeout=10) == 0


@pytest.mark.parametrize(
    "name,text,says",
    [
        ("list.yaml", "- just\n- a list\n", "mapping"),
        ("broken.yaml", "member_count: [1,\n", "not valid YAML"),
        ("broken.json", '{"member_count": ', "not valid JSON"),
        ("count.yaml", "member_count: many\n", "member_count"),
        ("dupes.yaml", "members: [{id: '123456789012'}]\n", "unique"),
        ("shortid.yaml", "outside_accounts: [{id: '12345'}]\n", "12-digit"),
        ("regions.yaml", "regions: []\n", "regions"),
    ],
)
def test_bad_seed_file_fails_with_a_message(tmp_path, name, text, says):
    bad = tmp_path / name
    bad.write_text(text)
    out = subprocess.run([SERVE, "--port", "0", "--seed", str(bad)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and out.stdout == "" and says in out.stderr and "Traceback" not in out.stderr


def test_missing_seed_file_and_busy_port_fail_with_a_message(tmp_path):
    missing = subprocess.run([SERVE, "--seed", str(tmp_path / "missing.yaml")], capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "missing.yaml" in missing.stderr

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        busy = subprocess.run([SERVE, "--port", str(port)], capture_output=True, text=True, timeout=60)
    assert busy.returncode == 2 and busy.stdout == "" and str(port) in busy.stderr


@pytest.mark.skipif(not os.access(SERVE, os.X_OK), reason="serve is not executable")
def test_help():
    out = subprocess.run([SERVE, "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "--seed" in out.stdout and "--port" in out.stdout


def test_reset_wipes_everything_and_seeds_again():
    proc, info = start_server()
    try:
        lc = Cloud(info)
        member = info["member_accounts"][0]
        chatbot = lc.client("chatbot", member)
        chatbot.create_slack_channel_configuration(
            SlackTeamId="T0CHATOPS1", SlackChannelId="C0RESET", ConfigurationName="before-reset",
            IamRoleArn=lc.account(member)["chatbot_role_arn"], SnsTopicArns=[lc.account(member)["topics"]["us-east-1"]],
        )
        lc.client("support-app", member).register_slack_workspace_for_organization(teamId="T0CHATOPS1")
        lc.add_fault(service="iam", kind="throttle", count=5)
        status, again = lc.control("POST", "reset")
        assert status == 200 and again["member_accounts"] == info["member_accounts"]
        assert lc.control("GET", "faults")[1]["faults"] == []
        fresh = Cloud(again)  # old assumed-role keys are gone with the reset
        assert fresh.client("chatbot", member).describe_slack_channel_configurations()["SlackChannelConfigurations"] == []
        assert fresh.client("support-app", member).list_slack_workspace_configurations()["slackWorkspaceConfigurations"] == []
        assert [w["SlackTeamId"] for w in fresh.client("chatbot", member).describe_slack_workspaces()["SlackWorkspaces"]] == ["T0CHATOPS1"]
        accounts = [a["Id"] for a in fresh.client("organizations").list_accounts()["Accounts"]]
        assert sorted(accounts) == sorted([info["management_account"], *info["member_accounts"]])
        url = fresh.control("POST", "response-url", {})[1]
        assert url["bucket"] == "cfn-responses"
    finally:
        assert stop_server(proc) == 0
