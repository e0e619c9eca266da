"""A small Lambda runtime client used as the test function: loops on invocation/next like any runtime.

Each CloudFormation request (the event itself, or inside `Records[0].Sns.Message`)
is appended as a JSON line to $RECORD_PATH, with what CloudFormation reported
about the stack and the resource while the request was in flight (read with
boto3 in the StackId's account, the way a provider verifies a request). The
request's ResourceProperties say how to answer:
- `Answer`: SUCCESS (default) or FAILED; `FailOn`: fail only this RequestType
- `Reason`, `Data` (an object), `PhysicalResourceId` (default: the request's
  or `<LogicalResourceId>-<RequestId>`); `NoAnswer: "true"` answers nothing
- `Crash: "true"`: the invocation itself fails (invocation/{id}/error)
A direct event {"crash": true} fails the invocation, {"sleep": s} sleeps first,
{"env": [NAME...]} answers those variables.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.request

API = f"http://{os.environ['AWS_LAMBDA_RUNTIME_API']}/2018-06-01/runtime"


def cloudformation_view(request: dict) -> dict:
    """DescribeStackResource / DescribeStacks / DescribeStackEvents in the stack's account, as the provider will ask."""
    import boto3

    account = request["StackId"].split(":")[4]
    region = request["StackId"].split(":")[3]
    session = boto3.session.Session(region_name=region)
    sts = session.client("sts", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/ChatOpsExecutionRole", RoleSessionName="fn-client", ExternalId=os.environ["EXTERNAL_ID"]
    )["Credentials"]
    cfn = session.client(
        "cloudformation", endpoint_url=os.environ["AWS_ENDPOINT_URL"], aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"],
    )
    view: dict = {}
    try:
        detail = cfn.describe_stack_resource(StackName=request["StackId"], LogicalResourceId=request["LogicalResourceId"])["StackResourceDetail"]
        view["resource"] = {k: detail.get(k) for k in ("ResourceStatus", "PhysicalResourceId", "ResourceType", "LogicalResourceId")}
    except Exception as err:  # the record says what went wrong; the test asserts on it
        view["resource_error"] = str(err)
    try:
        view["stack_status"] = cfn.describe_stacks(StackName=request["StackId"])["Stacks"][0]["StackStatus"]
        events = cfn.describe_stack_events(StackName=request["StackId"])["StackEvents"]
        view["events"] = [
            {k: e.get(k) for k in ("LogicalResourceId", "PhysicalResourceId", "ResourceStatus", "ResourceType")}
            for e in events if e["LogicalResourceId"] == request["LogicalResourceId"]
        ]
    except Exception as err:
        view["stack_error"] = str(err)
    return view


def answer(request: dict) -> None:
    props = request.get("ResourceProperties") or {}
    status = props.get("Answer", "SUCCESS")
    if props.get("FailOn") and props["FailOn"] != request["RequestType"]:
        status = "SUCCESS"
    elif props.get("FailOn"):
        status = "FAILED"
    physical = request.get("PhysicalResourceId") or f"{request['LogicalResourceId']}-{request['RequestId'][:8]}"
    if request["RequestType"] != "Delete" and props.get("PhysicalResourceId"):
        physical = props["PhysicalResourceId"]
    body = {
        "Status": status, "Reason": props.get("Reason", f"{status} from the test function"), "PhysicalResourceId": physical,
        "StackId": request["StackId"], "RequestId": request["RequestId"], "LogicalResourceId": request["LogicalResourceId"],
        "Data": props.get("Data", {}),
    }
    req = urllib.request.Request(request["ResponseURL"], data=json.dumps(body).encode(), method="PUT", headers={"Content-Type": ""})
    urllib.request.urlopen(req, timeout=10).read()


def handle(event: dict) -> object:
    if event.get("env"):
        return {name: os.environ.get(name) for name in event["env"]}
    if event.get("sleep"):
        time.sleep(float(event["sleep"]))
    if event.get("crash"):
        raise RuntimeError("asked to crash")
    if "RequestType" in event:  # a Lambda ServiceToken: the request itself is the event
        request, record = event, {"request": event, "sns": None}
    elif "Records" in event:
        request = json.loads(event["Records"][0]["Sns"]["Message"])
        record = {"request": request, "sns": {k: v for k, v in event["Records"][0]["Sns"].items() if k != "Message"}}
    else:
        return "ok"
    if "StackId" in request and os.environ.get("VERIFY") == "1":
        record["view"] = cloudformation_view(request)
    with open(os.environ["RECORD_PATH"], "a") as f:
        f.write(json.dumps(record) + "\n")
    props = request.get("ResourceProperties") or {}
    if props.get("Crash") == "true":
        raise RuntimeError("asked to crash")
    if props.get("NoAnswer") != "true":
        answer(request)
    return "ok"


def main() -> None:
    print("fn_client started", flush=True)
    while True:
        with urllib.request.urlopen(f"{API}/invocation/next") as resp:
            request_id = resp.headers["Lambda-Runtime-Aws-Request-Id"]
            event = json.loads(resp.read())
        print(f"invocation {request_id} for {resp.headers['Lambda-Runtime-Invoked-Function-Arn']}", flush=True)
        try:
            result = handle(event)
            url, body = f"{API}/invocation/{request_id}/response", json.dumps(result).encode()
        except Exception as err:
            url, body = f"{API}/invocation/{request_id}/error", json.dumps({"errorType": type(err).__name__, "errorMessage": str(err)}).encode()
        urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST")).read()


if __name__ == "__main__":
    sys.exit(main())
