"""Benchmark: median time of a Chatbot describe call against the local cloud, as a boto3 client sees it.

Starts `localcloud/serve` with 100 member accounts (or uses --endpoint),
creates some channel configurations in a member account, then times
DescribeSlackChannelConfigurations (with and without the ARN filter) and
DescribeSlackWorkspaces, each called through an assumed-role client.

    .venv/bin/python localcloud/bench.py [--calls 300] [--configs 50] [--endpoint URL]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from typing import Any, Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_CONFIG_FILE": os.devnull,
                   "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(var, None)

from localcloud.tests.helpers import Cloud, start_server, stop_server  # noqa: E402


def timed(fn: Callable[[], Any], calls: int) -> list[float]:
    for _ in range(min(20, calls)):  # warm up connections and caches
        fn()
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000.0)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--configs", type=int, default=50, help="channel configurations to create first")
    parser.add_argument("--members", type=int, default=100, help="member accounts in the seed (ignored with --endpoint)")
    parser.add_argument("--endpoint", help="use a running local cloud instead of starting one")
    args = parser.parse_args()

    proc = None
    if args.endpoint:
        import urllib.request

        with urllib.request.urlopen(f"{args.endpoint}/_localcloud/info", timeout=10) as resp:
            info = json.load(resp)
    else:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as seed:
            json.dump({"member_count": args.members}, seed)
        started = time.monotonic()
        proc, info = start_server("--seed", seed.name)
        print(f"startup with {len(info['member_accounts'])} members: {time.monotonic() - started:.2f} s")
    try:
        lc = Cloud(info)
        account = lc.members[-1]
        chatbot = lc.client("chatbot", account)
        stamp = int(time.time())
        arns = []
        for i in range(args.configs):
            out = chatbot.create_slack_channel_configuration(
                SlackTeamId=info["slack_team_id"], SlackChannelId=f"C0BENCH{i:04d}", ConfigurationName=f"bench-{stamp}-{i}",
                IamRoleArn=lc.account(account)["chatbot_role_arn"], SnsTopicArns=[lc.account(account)["topics"]["us-east-1"]],
            )
            arns.append(out["ChannelConfiguration"]["ChatConfigurationArn"])

        cases = {
            "DescribeSlackChannelConfigurations(ChatConfigurationArn)": lambda: chatbot.describe_slack_channel_configurations(ChatConfigurationArn=arns[len(arns) // 2]) if arns else chatbot.describe_slack_channel_configurations(),
            f"DescribeSlackChannelConfigurations(all {args.configs})": lambda: chatbot.describe_slack_channel_configurations(),
            "DescribeSlackWorkspaces": lambda: chatbot.describe_slack_workspaces(),
        }
        print(f"{args.calls} calls each, boto3 client in account {account}, endpoint {info['endpoint']}")
        results = {}
        for name, fn in cases.items():
            samples = timed(fn, args.calls)
            results[name] = statistics.median(samples)
            p95 = sorted(samples)[int(len(samples) * 0.95) - 1]
            print(f"  {name:<58} median {results[name]:6.2f} ms   p95 {p95:6.2f} ms")
        for arn in arns:
            chatbot.delete_slack_channel_configuration(ChatConfigurationArn=arn)
        headline = results["DescribeSlackChannelConfigurations(ChatConfigurationArn)"]
        print(f"median describe call: {headline:.2f} ms")
    finally:
        if proc is not None:
            stop_server(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
