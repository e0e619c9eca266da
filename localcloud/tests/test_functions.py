"""Lambda functions in the local cloud: a program under the Runtime API, invoked directly and by SNS."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import pytest

FN_CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fn_client.py")


def register(lc: Any, name: str, tmp_path: Any, env: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    """Registers tests/fn_client.py as function `name`; its records go to a file under tmp_path."""
    record = tmp_path / f"{name}.jsonl"
    spec = {
        "name": name,
        "command": [sys.executable, FN_CLIENT],
        "env": {"RECORD_PATH": str(record), "AWS_ENDPOINT_URL": lc.endpoint, **lc.provider_env(), "EXTERNAL_ID": lc.info["external_id"], **(env or {})},
        "timeout": 10,
        **extra,
    }
    status, out = lc.control("POST", "functions", spec)
    assert status == 200, out
    out["record"] = record
    return out


def records(path: Any, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
            if len(lines) >= count:
                return lines
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} events reached the function ({path})")


def wait_for(check: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_register_and_invoke_with_the_lambda_environment(lc, unique, tmp_path):
    name = unique("fn-env")
    fn = register(lc, name, tmp_path)
    assert fn["arn"] == f"arn:aws:lambda:us-east-1:{lc.management}:function:{name}"
    assert fn["runtime_api"].startswith("127.0.0.1:") and os.path.exists(fn["log_path"]) and fn["pid"]
    wanted = ["AWS_LAMBDA_RUNTIME_API", "AWS_LAMBDA_FUNCTION_NAME", "AWS_REGION", "AWS_LAMBDA_FUNCTION_VERSION", "RECORD_PATH"]
    status, out = lc.control("POST", f"functions/{name}/invoke", {"env": wanted})
    assert status == 200 and out["outcome"] == "response", out
    env = out["payload"]
    assert env["AWS_LAMBDA_RUNTIME_API"] == fn["runtime_api"] and env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["AWS_REGION"] == "us-east-1" and env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["RECORD_PATH"] == str(fn["record"])
    # One warm process: the same pid serves the next invocation.
    assert lc.control("POST", f"functions/{name}/invoke", {})[1]["outcome"] == "response"
    assert lc.control("GET", f"functions/{name}")[1]["pid"] == fn["pid"]
    log = open(fn["log_path"]).read()
    assert "fn_client started" in log and f"function:{name}" in log  # the invoked ARN header reached it
    assert lc.control("DELETE", f"functions/{name}")[0] == 200
    assert lc.control("GET", f"functions/{name}")[0] == 404


def test_sns_lambda_subscription_delivers_the_sns_event(lc, unique, tmp_path):
    name = unique("fn-sns")
    fn = register(lc, name, tmp_path)
    sns = lc.client("sns")
    topic = sns.create_topic(Name=unique("fn-topic"))["TopicArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn["arn"])["SubscriptionArn"]
    message_id = sns.publish(TopicArn=topic, Message='{"hello": "world"}', Subject="greeting")["MessageId"]
    got = records(fn["record"], 1)[0]
    assert got["sns"]["Type"] == "Notification" and got["sns"]["TopicArn"] == topic
    assert got["sns"]["MessageId"] == message_id and got["sns"]["Subject"] == "greeting"
    assert got["request"] == {"hello": "world"}
    event_sub = got["sns"]  # the envelope fields a provider reads
    assert event_sub["Timestamp"].endswith("Z") and event_sub["SignatureVersion"] == "1"
    assert sub.startswith(topic + ":")


def test_a_failing_async_invocation_is_retried_twice_then_recorded(lc, unique, tmp_path):
    name = unique("fn-fail")
    fn = register(lc, name, tmp_path, retry_delays=[0.1, 0.1])
    sns = lc.client("sns")
    topic = sns.create_topic(Name=unique("fn-topic"))["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn["arn"])
    sns.publish(TopicArn=topic, Message=json.dumps({"ResourceProperties": {"Crash": "true"}, "RequestType": "Create"}))
    failed = wait_for(lambda: lc.control("GET", f"functions/{name}/failed")[1]["failed"])
    assert len(records(fn["record"], 3)) == 3  # the first attempt and two retries
    record = failed[0]
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorMessage"] == "asked to crash"
    assert json.loads(record["requestPayload"]["Records"][0]["Sns"]["Message"])["RequestType"] == "Create"


def test_timeout_stops_the_process_and_the_next_invocation_starts_a_new_one(lc, unique, tmp_path):
    name = unique("fn-timeout")
    fn = register(lc, name, tmp_path, timeout=1)
    started = time.monotonic()
    out = lc.control("POST", f"functions/{name}/invoke", {"sleep": 5})[1]
    assert out["outcome"] == "error" and out["payload"]["errorType"] == "Sandbox.Timedout"
    assert time.monotonic() - started < 3
    again = lc.control("POST", f"functions/{name}/invoke", {})[1]
    assert again["outcome"] == "response"
    assert lc.control("GET", f"functions/{name}")[1]["pid"] != fn["pid"]


def test_sns_to_an_unknown_function_is_recorded_not_sent(lc, unique):
    sns = lc.client("sns")
    topic = sns.create_topic(Name=unique("fn-topic"))["TopicArn"]
    arn = f"arn:aws:lambda:us-east-1:{lc.management}:function:{unique('nobody')}"
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="lost")
    deliveries = lc.control("GET", "sns-deliveries")[1]["deliveries"]
    assert any(d["endpoint"] == arn and "undeliverable" in d for d in deliveries)


@pytest.mark.parametrize(
    "spec,says",
    [
        ({"name": "bad name!", "command": ["/bin/true"]}, "name"),
        ({"name": "ok", "command": []}, "command"),
        ({"name": "ok", "command": ["/no/such/program"]}, "executable"),
        ({"name": "ok", "command": ["/bin/true"], "timeout": 0}, "timeout"),
        ({"name": "ok", "command": ["/bin/true"], "env": {"A": ["x"]}}, "env"),
        ({"name": "ok", "command": ["/bin/true"], "maximum_retry_attempts": 5}, "maximum_retry_attempts"),
    ],
)
def test_bad_function_specs(lc, spec, says):
    status, out = lc.control("POST", "functions", spec)
    assert status == 400 and says in out["error"]


def test_a_retry_waiting_its_delay_does_not_hold_up_other_events(lc, unique, tmp_path):
    name = unique("fn-queue")
    fn = register(lc, name, tmp_path, retry_delays=[30, 30])
    sns = lc.client("sns")
    topic = sns.create_topic(Name=unique("fn-topic"))["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn["arn"])
    sns.publish(TopicArn=topic, Message=json.dumps({"ResourceProperties": {"Crash": "true"}, "RequestType": "Create", "n": 1}))
    sns.publish(TopicArn=topic, Message=json.dumps({"ResourceProperties": {"NoAnswer": "true"}, "RequestType": "Create", "n": 2}))
    got = records(fn["record"], 2, timeout=10)
    assert [g["request"]["n"] for g in got] == [1, 2]  # the second ran while the first waits 30 s for its retry
    assert lc.control("GET", f"functions/{name}")[1]["pending_async"] == 1
    assert lc.control("GET", f"functions/{name}/failed")[1]["failed"] == []
