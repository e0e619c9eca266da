#!/usr/bin/env python3
"""`make demo`: the main job of ChatOps Provider, on the local cloud, through CloudFormation.

The provider is deployed as in AWS: the real `chatops` binary is the Lambda
function behind the ServiceToken topic of the management account. Then:

1. plan the example template (examples/chatops-stack.yaml) in three member accounts;
2. deploy it as a StackSet into those accounts: CloudFormation publishes each
   instance's Create to the topic, the provider verifies it with
   CloudFormation and answers; each stack goes CREATE_IN_PROGRESS -> CREATE_COMPLETE;
3. plan the StackSet: no change;
4. update in place (Environment=prod: the logging level), planned then deployed;
5. replacement (a new configuration name and channel), planned then deployed:
   the old configurations are deleted in the stacks' cleanup phase;
6. someone edits a channel in the console: the plan shows the drift;
7. delete the instances and the StackSet; the plan would create everything again.

Nothing reaches AWS: the local cloud runs on 127.0.0.1 and stops at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "examples" / "chatops-stack.yaml"
STACK_SET = "chatops-demo"
# The local cloud seeds this channel role in every account.
CHANNEL_ROLE = "chatops-chatbot-channel"
# The Chatbot API is served in us-east-2, not us-east-1 (localcloud/README.md, Regions).
CHATBOT_REGION = "us-east-2"


def banner(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m" if sys.stdout.isatty() else f"\n== {text}", flush=True)


class Demo:
    def __init__(self, binary: Path, seed: dict, env: dict[str, str]):
        self.binary = binary
        self.seed = seed
        self.env = env
        self.endpoint = seed["endpoint"]
        self.accounts = seed["member_accounts"][:3]
        self.topic = ""
        # Stack events already printed: each operation prints only its own.
        self.shown_events: set[str] = set()

    def client(self, service: str, account: str | None = None, region: str = "us-east-1"):
        """A boto3 client acting in `account` (the management account by default)."""
        keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        if account and account != self.seed["management_account"]:
            sts = boto3.client("sts", endpoint_url=self.endpoint, region_name="us-east-1", **keys)
            creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{self.seed['organization_access_role_name']}",
                                    RoleSessionName="demo")["Credentials"]
            keys = {"aws_access_key_id": creds["AccessKeyId"], "aws_secret_access_key": creds["SecretAccessKey"],
                    "aws_session_token": creds["SessionToken"]}
        return boto3.client(service, endpoint_url=self.endpoint, region_name=region, **keys)

    def chatops(self, *args: str) -> int:
        """`chatops plan` as a reviewer: the seeded planner's credentials and the read-only plan role."""
        planner = self.seed["planner_credentials"]
        env = {**self.env, "AWS_ACCESS_KEY_ID": planner["access_key_id"], "AWS_SECRET_ACCESS_KEY": planner["secret_access_key"],
               "AWS_SESSION_TOKEN": planner["session_token"], "CHATOPS_PLAN_ROLE_NAME": self.seed["plan_role_name"]}
        return subprocess.run([str(self.binary), *args], env=env).returncode

    def plan_template(self) -> int:
        return self.chatops("plan", str(TEMPLATE), "--accounts", ",".join(self.accounts),
                            "-p", f"ServiceToken={self.topic}", "-p", f"ChannelRoleName={CHANNEL_ROLE}",
                            "--detailed-exitcode")

    def plan_stack_set(self, *parameters: str) -> int:
        args = ["plan", "--stack-set", STACK_SET, "--detailed-exitcode"]
        for parameter in parameters:
            args += ["-p", parameter]
        return self.chatops(*args)

    def deploy_provider(self) -> None:
        """The function behind the ServiceToken topic, as cfn-templates/provider.yaml deploys it."""
        spec = {"name": "chatops-provider", "command": [str(self.binary)], "timeout": 60,
                "env": {**{k: v for k, v in self.env.items() if k.startswith(("AWS_", "CHATOPS_"))},
                        "RUST_LOG": "info"}}
        request = urllib.request.Request(f"{self.endpoint}/_localcloud/functions", data=json.dumps(spec).encode(),
                                         method="POST")
        with urllib.request.urlopen(request, timeout=30) as answer:
            function = json.loads(answer.read())
        sns = self.client("sns")
        self.topic = sns.create_topic(Name="chatops-provider")["TopicArn"]
        sns.subscribe(TopicArn=self.topic, Protocol="lambda", Endpoint=function["arn"])
        print(f"  provider function {function['arn']}\n  ServiceToken      {self.topic}")

    def run_operation(self, start) -> None:
        """Starts a StackSet operation and prints each instance stack's statuses from its events."""
        cfn = self.client("cloudformation")
        operation = start(cfn)["OperationId"]
        shown = self.shown_events
        stack_ids: dict[str, str] = {}
        status = "RUNNING"
        while True:
            for instance in cfn.list_stack_instances(StackSetName=STACK_SET)["Summaries"]:
                if instance.get("StackId"):
                    stack_ids[instance["Account"]] = instance["StackId"]
            for account, stack_id in sorted(stack_ids.items()):
                try:
                    events = self.client("cloudformation", account).describe_stack_events(StackName=stack_id)
                except Exception:  # not made yet
                    continue
                for event in reversed(events["StackEvents"]):
                    if event["ResourceType"] != "AWS::CloudFormation::Stack" or event["EventId"] in shown:
                        continue
                    shown.add(event["EventId"])
                    print(f"  {account}  {stack_id.split('/')[1]:<58} {event['ResourceStatus']}", flush=True)
            if status not in ("RUNNING", "QUEUED", "STOPPING"):
                break
            time.sleep(0.2)
            status = cfn.describe_stack_set_operation(StackSetName=STACK_SET, OperationId=operation)
            status = status["StackSetOperation"]["Status"]
        if status != "SUCCEEDED":
            details = cfn.list_stack_instances(StackSetName=STACK_SET)["Summaries"]
            raise SystemExit(f"StackSet operation {operation} {status}: {details}")

    def deploy(self) -> None:
        cfn = self.client("cloudformation")
        cfn.create_stack_set(
            StackSetName=STACK_SET, TemplateBody=TEMPLATE.read_text(), PermissionModel="SERVICE_MANAGED",
            AutoDeployment={"Enabled": False},
            Parameters=[{"ParameterKey": "ServiceToken", "ParameterValue": self.topic},
                        {"ParameterKey": "ChannelRoleName", "ParameterValue": CHANNEL_ROLE}])
        root = self.client("organizations").list_roots()["Roots"][0]["Id"]
        targets = {"OrganizationalUnitIds": [root], "Accounts": self.accounts, "AccountFilterType": "INTERSECTION"}
        self.run_operation(lambda cfn: cfn.create_stack_instances(
            StackSetName=STACK_SET, Regions=["us-east-1"], DeploymentTargets=targets))

    def update(self, **values: str) -> None:
        parameters = [{"ParameterKey": k, "UsePreviousValue": True} for k in ("ServiceToken", "ChannelRoleName")
                      if k not in values]
        current = {p["ParameterKey"]: p["ParameterValue"] for p in
                   self.client("cloudformation").describe_stack_set(StackSetName=STACK_SET)["StackSet"]["Parameters"]}
        for key in ("Environment", "ConfigurationPrefix", "SlackChannelId"):
            if key not in values and key in current:
                parameters.append({"ParameterKey": key, "UsePreviousValue": True})
        parameters += [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]
        self.run_operation(lambda cfn: cfn.update_stack_set(
            StackSetName=STACK_SET, UsePreviousTemplate=True, Parameters=parameters))

    def drift(self) -> str:
        account = self.accounts[1]
        chatbot = self.client("chatbot", account, region=CHATBOT_REGION)
        live = [c for c in chatbot.describe_slack_channel_configurations()["SlackChannelConfigurations"]
                if c["ConfigurationName"].endswith(account)][0]
        chatbot.update_slack_channel_configuration(
            ChatConfigurationArn=live["ChatConfigurationArn"], SlackChannelId="C0SOMEWHERE",
            IamRoleArn=live["IamRoleArn"], SnsTopicArns=live["SnsTopicArns"], LoggingLevel="NONE")
        return account

    def destroy(self) -> None:
        root = self.client("organizations").list_roots()["Roots"][0]["Id"]
        targets = {"OrganizationalUnitIds": [root], "Accounts": self.accounts, "AccountFilterType": "INTERSECTION"}
        self.run_operation(lambda cfn: cfn.delete_stack_instances(
            StackSetName=STACK_SET, Regions=["us-east-1"], DeploymentTargets=targets, RetainStacks=False))
        self.client("cloudformation").delete_stack_set(StackSetName=STACK_SET)


def expect(code: int, wanted: int, what: str) -> None:
    if code != wanted:
        raise SystemExit(f"{what}: the plan exited {code}, not {wanted}")


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
            # The provider's role of cfn-templates/provider.yaml: its policies are enforced.
            "AWS_ACCESS_KEY_ID": seed["provider_credentials"]["access_key_id"],
            "AWS_SECRET_ACCESS_KEY": seed["provider_credentials"]["secret_access_key"],
            "AWS_SESSION_TOKEN": seed["provider_credentials"]["session_token"],
            "AWS_EC2_METADATA_DISABLED": "true", "RUST_LOG": "warn",
            "CHATOPS_EXTERNAL_ID": seed["external_id"],
            "CHATOPS_EXECUTION_ROLE_NAME": seed["execution_role_name"],
            # Local runs only: the local cloud's ResponseURLs are on this origin.
            "CHATOPS_LOCAL_RESPONSE_ORIGIN": seed["endpoint"],
        })
        demo = Demo(Path(args.binary), seed, env)
        print(f"local cloud on {seed['endpoint']}: organization {seed['organization_id']}, "
              f"provider in {seed['management_account']}, deploying to {', '.join(demo.accounts)}")

        banner("0. deploy the provider: the chatops function behind the ServiceToken topic")
        demo.deploy_provider()

        banner(f"1. plan {TEMPLATE.relative_to(ROOT)} in three accounts")
        expect(demo.plan_template(), 2, "the first plan should show creates")

        banner(f"2. deploy: StackSet {STACK_SET} into three accounts through CloudFormation")
        demo.deploy()

        banner("3. plan the StackSet: nothing to do")
        expect(demo.plan_stack_set(), 0, "the plan after the deploy should show no change")

        banner("4. update in place: Environment=prod (logging level ERROR), planned, then deployed")
        expect(demo.plan_stack_set("Environment=prod"), 2, "the plan should show the update")
        demo.update(Environment="prod")
        expect(demo.plan_stack_set(), 0, "the plan after the update should show no change")

        banner("5. replacement: a new configuration name and channel, planned, then deployed")
        replaced = ("ConfigurationPrefix=oncall", "SlackChannelId=C0ONCALL1")
        expect(demo.plan_stack_set(*replaced), 2, "the plan should show the replacement")
        demo.update(ConfigurationPrefix="oncall", SlackChannelId="C0ONCALL1")
        expect(demo.plan_stack_set(), 0, "the plan after the replacement should show no change")

        banner("6. someone edits a channel in the console: the plan shows the drift")
        drifted = demo.drift()
        print(f"  (changed the Slack channel and logging level of {drifted}'s configuration)")
        expect(demo.plan_stack_set(), 2, "the plan should show the drift")

        banner("7. delete: the StackSet's instances, then the StackSet")
        demo.destroy()
        expect(demo.plan_template(), 2, "after the delete, the plan should show creates again")
        print("\ndemo finished: planned, deployed a StackSet to 3 accounts, no change, updated in place, "
              "replaced, drift found, deleted")
        return 0
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
