#!/usr/bin/env python3
"""`make demo`: the main job of ChatOps Provider, on the local cloud.

1. plan the example stack (examples/chatops-stack.yaml) in three member accounts;
2. deploy it there: each account's Create request, SNS-wrapped as a member
   stack sends it to the central provider, through the real `chatops` binary;
3. plan again: no change;
4. change a configuration behind the template's back: the plan shows drift;
5. destroy: each account's Delete request;
6. plan once more: everything would be created again, nothing is left.

Nothing reaches AWS: the local cloud runs on 127.0.0.1 and stops at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "examples" / "chatops-stack.yaml"
STACK_NAME = "chatops-demo"
SERVICE_TOKEN = "arn:aws:sns:us-east-1:123456789012:chatops-provider"
# The local cloud seeds this channel role in every account.
CHANNEL_ROLE = "ChatbotChannelRole"


def banner(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m" if sys.stdout.isatty() else f"\n== {text}", flush=True)


class Demo:
    def __init__(self, binary: Path, seed: dict, env: dict[str, str]):
        self.binary = binary
        self.seed = seed
        self.env = env
        self.endpoint = seed["endpoint"]
        self.accounts = seed["member_accounts"][:3]
        self.stack_ids = {
            a: f"arn:aws:cloudformation:us-east-1:{a}:stack/{STACK_NAME}/{uuid.uuid4()}" for a in self.accounts
        }
        self.deployed: dict[str, list[tuple[str, str, str, dict]]] = {}

    def chatops(self, *args: str, check: bool = True, capture: bool = False) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [str(self.binary), *args], env=self.env, text=True,
            stdout=subprocess.PIPE if capture else None,
        )
        if check and result.returncode not in (0, 2):
            raise SystemExit(f"chatops {' '.join(args)} failed with exit code {result.returncode}")
        return result

    def plan(self, *extra: str, json_output: bool = False) -> subprocess.CompletedProcess:
        args = ["plan", str(TEMPLATE), "--accounts", ",".join(self.accounts), "--stack-name", STACK_NAME,
                "-p", f"ServiceToken={SERVICE_TOKEN}", "-p", f"ChannelRoleName={CHANNEL_ROLE}",
                "--detailed-exitcode", *extra]
        if json_output:
            args.append("--json")
        return self.chatops(*args, capture=json_output)

    def local(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body or {}).encode() if method == "POST" else None
        request = urllib.request.Request(self.endpoint + path, data=data, method=method)
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def request(self, account: str, request_type: str, logical_id: str, resource_type: str,
                properties: dict, physical_id: str | None = None) -> dict:
        """Sends one request the way CloudFormation does (SNS-wrapped, pre-signed ResponseURL)."""
        target = self.local("POST", "/_localcloud/response-url")
        request = {
            "RequestType": request_type,
            "ServiceToken": SERVICE_TOKEN,
            "ResponseURL": target["url"],
            "StackId": self.stack_ids[account],
            "RequestId": str(uuid.uuid4()),
            "LogicalResourceId": logical_id,
            "ResourceType": resource_type,
            "ResourceProperties": {"ServiceToken": SERVICE_TOKEN, **properties},
        }
        if physical_id:
            request["PhysicalResourceId"] = physical_id
        event = {"Records": [{"EventSource": "aws:sns", "Sns": {
            "Type": "Notification", "TopicArn": SERVICE_TOKEN, "Message": json.dumps(request)}}]}
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(event, f)
        try:
            self.chatops("invoke", "--event", f.name, capture=True)
        finally:
            os.unlink(f.name)
        query = urllib.parse.urlencode({"key": target["key"]})
        return self.local("GET", f"/_localcloud/response?{query}")

    def deploy(self) -> None:
        plan = json.loads(self.plan(json_output=True).stdout)
        for account in plan["accounts"]:
            for resource in account["resources"]:
                if resource["action"] != "create":
                    continue
                properties = {c["property"]: c["after"] for c in resource["changes"] if c["after_state"] == "value"}
                response = self.request(account["account_id"], "Create", resource["logical_id"],
                                        resource["type"], properties)
                if response["Status"] != "SUCCESS":
                    raise SystemExit(f"create failed in {account['account_id']}: {response['Reason']}")
                self.deployed.setdefault(account["account_id"], []).append(
                    (resource["logical_id"], resource["type"], response["PhysicalResourceId"], properties))
                print(f"  + {resource['logical_id']:<14} {account['account_id']}  {response['PhysicalResourceId']}")

    def drift(self) -> str:
        account = self.accounts[1]
        _, _, arn, _ = self.deployed[account][0]
        sts = boto3.client("sts", endpoint_url=self.endpoint, region_name="us-east-1",
                           aws_access_key_id="testing", aws_secret_access_key="testing")
        creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{self.seed['execution_role_name']}",
                                RoleSessionName="someone-in-the-console",
                                ExternalId=self.seed["external_id"])["Credentials"]
        # Chatbot has no us-east-1 endpoint (localcloud/regions.py); its configurations are global.
        chatbot = boto3.client("chatbot", endpoint_url=self.endpoint, region_name="us-east-2",
                               aws_access_key_id=creds["AccessKeyId"],
                               aws_secret_access_key=creds["SecretAccessKey"],
                               aws_session_token=creds["SessionToken"])
        live = chatbot.describe_slack_channel_configurations(ChatConfigurationArn=arn)["SlackChannelConfigurations"][0]
        chatbot.update_slack_channel_configuration(
            ChatConfigurationArn=arn, SlackChannelId="C0SOMEWHERE", IamRoleArn=live["IamRoleArn"],
            SnsTopicArns=live["SnsTopicArns"], LoggingLevel="NONE")
        return account

    def destroy(self) -> None:
        for account, resources in self.deployed.items():
            for logical_id, resource_type, physical_id, properties in resources:
                response = self.request(account, "Delete", logical_id, resource_type, properties, physical_id)
                if response["Status"] != "SUCCESS":
                    raise SystemExit(f"delete failed in {account}: {response['Reason']}")
                print(f"  - {logical_id:<14} {account}  {physical_id}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(ROOT / "target" / "debug" / "chatops"))
    args = parser.parse_args()

    server = subprocess.Popen([str(ROOT / "localcloud" / "serve"), "--port", "0"],
                              stdout=subprocess.PIPE, text=True)
    try:
        seed = json.loads(server.stdout.readline())
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({
            "AWS_ENDPOINT_URL": seed["endpoint"], "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_EC2_METADATA_DISABLED": "true", "RUST_LOG": "warn",
            "CHATOPS_EXTERNAL_ID": seed["external_id"],
            "CHATOPS_EXECUTION_ROLE_NAME": seed["execution_role_name"],
        })
        demo = Demo(Path(args.binary), seed, env)
        print(f"local cloud on {seed['endpoint']}: organization {seed['organization_id']}, "
              f"provider in {seed['management_account']}, deploying to {', '.join(demo.accounts)}")

        banner(f"1. plan {TEMPLATE.relative_to(ROOT)} in three accounts")
        if demo.plan().returncode != 2:
            raise SystemExit("the first plan should show creates")

        banner("2. deploy: each account's Create request through the provider")
        demo.deploy()

        banner("3. plan again: nothing to do")
        if demo.plan("--deployed", str(TEMPLATE)).returncode != 0:
            raise SystemExit("the plan after the deploy should show no change")

        banner("4. someone edits a channel in the console: the plan shows the drift")
        drifted = demo.drift()
        print(f"  (changed the Slack channel and logging level of {drifted}'s configuration)")
        if demo.plan("--deployed", str(TEMPLATE)).returncode != 2:
            raise SystemExit("the plan should show the drift")

        banner("5. destroy: each account's Delete request")
        demo.destroy()
        banner("6. nothing is left: the plan would create everything again")
        if demo.plan().returncode != 2:
            raise SystemExit("after the destroy, the plan should show creates again")
        print("\ndemo finished: planned, deployed to 3 accounts, no change, drift found, destroyed")
        return 0
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
