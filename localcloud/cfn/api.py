"""The CloudFormation API for stacks: the calls answered here instead of moto, in the caller's account and region.

Semantics and error messages follow the API reference
(https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/) and the
engine (localcloud/cfn/engine.py). A stack is found by name among the
stacks that are not deleted, or by StackId among all (deleted ones too), in
the caller's account and region only.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from typing import Any, Callable

from localcloud.cfn import engine
from localcloud.cfn import template as tpl
from localcloud.cfn.engine import Stack
from localcloud.cfn.store import RegionalStore
from localcloud.cfn.template import TemplateError
from localcloud.cfn.wire import ApiError, model

STACK_NAME = re.compile(r"[a-zA-Z][-a-zA-Z0-9]{0,127}")


STORE: RegionalStore[Stack] = RegionalStore("DELETE_COMPLETE", lambda name_or_id: ApiError(f"Stack with id {name_or_id} does not exist"))


def modeled_error(code: str, message: str) -> ApiError:
    """An error whose HTTP status and wire code come from the model's error shape."""
    meta = model().shape_for(code).metadata.get("error", {})
    return ApiError(message, meta.get("code", code), int(meta.get("httpStatusCode", 400)))


# -- template input ------------------------------------------------------------------------------

def template_from(req: dict[str, Any]) -> tuple[dict[str, Any], str]:
    if req.get("TemplateURL"):
        raise ApiError("TemplateURL is not supported by the local cloud: pass the template as TemplateBody")
    body = req.get("TemplateBody")
    if not body:
        raise ApiError("Either Template URL or Template Body must be specified.")
    try:
        return tpl.load(body), body
    except TemplateError as err:
        raise ApiError(str(err)) from None


def given_parameters(req: dict[str, Any], key: str = "Parameters") -> tuple[dict[str, str], set[str]]:
    values, previous = {}, set()
    for entry in req.get(key) or []:
        name = entry.get("ParameterKey")
        if not name:
            raise ApiError(f"{key}: every entry needs a ParameterKey")
        if entry.get("UsePreviousValue"):
            previous.add(name)
        else:
            values[name] = entry.get("ParameterValue", "")
    return values, previous


def check_capabilities(template: dict[str, Any], capabilities: list[str]) -> None:
    """IAM resources need CAPABILITY_IAM (or _NAMED_IAM for named ones), as in CreateStack's documentation."""
    named = unnamed = False
    for res in (template.get("Resources") or {}).values():
        if str(res.get("Type", "")).startswith("AWS::IAM::"):
            props = res.get("Properties") or {}
            if any(k in props for k in ("RoleName", "UserName", "GroupName", "ManagedPolicyName", "InstanceProfileName")):
                named = True
            else:
                unnamed = True
    if named and "CAPABILITY_NAMED_IAM" not in capabilities:
        raise modeled_error("InsufficientCapabilitiesException", "Requires capabilities : [CAPABILITY_NAMED_IAM]")
    if unnamed and not {"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"} & set(capabilities):
        raise modeled_error("InsufficientCapabilitiesException", "Requires capabilities : [CAPABILITY_IAM]")


# -- operations --------------------------------------------------------------------------------------

def create_stack(account: str, region: str, req: dict[str, Any], stack_set_id: str | None = None,
                 stack_id: str | None = None) -> dict[str, Any]:
    name = req["StackName"]
    if not STACK_NAME.fullmatch(name):
        raise ApiError(f"1 validation error detected: Value '{name}' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*")
    if STORE.find(account, region, name) is not None:
        raise modeled_error("AlreadyExistsException", f"Stack [{name}] already exists")
    template, body = template_from(req)
    check_capabilities(template, req.get("Capabilities") or [])
    given, previous = given_parameters(req)
    if previous:
        raise ApiError("UsePreviousValue is only for UpdateStack")
    stack = Stack(account, region, name, stack_id)
    try:
        stack.parameters = tpl.resolve_parameters(template, given)
        stack.template, stack.template_body = template, body
        tpl.validate(template, stack.context().active)  # CloudFormation validates before it starts
    except TemplateError as err:
        raise ApiError(str(err)) from None
    stack.tags = req.get("Tags") or []
    stack.capabilities = req.get("Capabilities") or []
    stack.notification_arns = req.get("NotificationARNs") or []
    stack.client_token = req.get("ClientRequestToken")
    stack.stack_set_id = stack_set_id
    if req.get("DisableRollback"):
        stack.on_failure = "DO_NOTHING"
    elif req.get("OnFailure"):
        stack.on_failure = req["OnFailure"]
    stack.disable_rollback = stack.on_failure == "DO_NOTHING"
    STORE.add(stack)
    engine.start(stack, lambda: engine.run_create(stack))
    return {"StackId": stack.id}


def update_stack(account: str, region: str, req: dict[str, Any]) -> dict[str, Any]:
    stack = STORE.get(account, region, req["StackName"])
    with stack.lock:  # one operation at a time: the check and the start are one step
        return _start_update(stack, req)


def _start_update(stack: Stack, req: dict[str, Any]) -> dict[str, Any]:
    if stack.status.endswith("_IN_PROGRESS") or not stack.idle.is_set() or stack.delete_pending:
        raise ApiError(f"Stack:{stack.id} is in {stack.status} state and can not be updated.")
    if stack.status in ("CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED", "DELETE_COMPLETE", "UPDATE_ROLLBACK_FAILED"):
        raise ApiError(f"Stack:{stack.id} is in {stack.status} state and can not be updated.")
    if req.get("UsePreviousTemplate"):
        template, body = stack.template, stack.template_body
    else:
        template, body = template_from(req)
    check_capabilities(template, req.get("Capabilities") or [])
    given, previous = given_parameters(req)
    try:
        parameters = tpl.resolve_parameters(template, given, stack.parameters, previous)
        tpl.validate(template, stack.context(template, parameters).active)
    except TemplateError as err:
        raise ApiError(str(err)) from None
    tags = req.get("Tags")
    if body == stack.template_body and parameters == stack.parameters and (tags is None or tags == stack.tags):
        raise ApiError("No updates are to be performed.")
    if tags is not None:
        stack.tags = tags
    if req.get("Capabilities") is not None:
        stack.capabilities = req["Capabilities"]
    stack.client_token = req.get("ClientRequestToken")
    # UpdateStack answers once the stack shows UPDATE_IN_PROGRESS: a DescribeStacks right after it
    # must not see the previous status (as DeleteStack below).
    stack.set_status("UPDATE_IN_PROGRESS", "User Initiated")
    engine.start(stack, lambda: engine.run_update(stack, template, body, parameters, started=True))
    return {"StackId": stack.id}


def delete_stack(account: str, region: str, req: dict[str, Any]) -> dict[str, Any]:
    stack = STORE.find(account, region, req["StackName"])
    if stack is None or stack.status == "DELETE_COMPLETE":
        return {}  # deleting a stack that does not exist succeeds (DeleteStack's documentation)
    retain = req.get("RetainResources") or []
    if retain and stack.status != "DELETE_FAILED":
        raise ApiError(f"Invalid operation on stack {stack.id}: RetainResources can only be specified when the stack is in the DELETE_FAILED state")
    with stack.lock:
        if stack.status == "DELETE_IN_PROGRESS" or stack.delete_pending:
            return {}
        stack.client_token = req.get("ClientRequestToken")
        stack.delete_pending = True

        def delete() -> None:
            stack.delete_pending = False
            engine.run_delete(stack, retain)

        def after_current() -> None:
            stack.idle.wait()
            with stack.lock:
                engine.start(stack, delete)

        if stack.idle.is_set():
            # DeleteStack answers once the stack shows DELETE_IN_PROGRESS: a DescribeStacks right
            # after it must not see the previous status.
            stack.delete_pending = False
            stack.set_status("DELETE_IN_PROGRESS", "User Initiated")
            engine.start(stack, lambda: engine.run_delete(stack, retain, started=True))
        else:  # CloudFormation deletes once the running operation has stopped
            threading.Thread(target=after_current, daemon=True).start()
    return {}


def describe_stack(stack: Stack) -> dict[str, Any]:
    declared = stack.template.get("Parameters") or {}
    parameters = []
    for key, value in stack.parameters.items():
        shown = ",".join(value) if isinstance(value, list) else value
        if str((declared.get(key) or {}).get("NoEcho", "false")).lower() == "true":
            shown = "****"
        parameters.append({"ParameterKey": key, "ParameterValue": shown})
    out: dict[str, Any] = {
        "StackId": stack.id, "StackName": stack.name, "Parameters": parameters, "CreationTime": stack.created,
        "StackStatus": stack.status, "DisableRollback": stack.disable_rollback, "NotificationARNs": stack.notification_arns,
        "Capabilities": stack.capabilities, "Tags": stack.tags, "EnableTerminationProtection": False,
        "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"},
    }
    if stack.template.get("Description"):
        out["Description"] = stack.template["Description"]
    if stack.reason:
        out["StackStatusReason"] = stack.reason
    if stack.updated:
        out["LastUpdatedTime"] = stack.updated
    if stack.deleted:
        out["DeletionTime"] = stack.deleted
    if stack.outputs and stack.status in ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"):
        out["Outputs"] = stack.outputs
    return out


def describe_stacks(account: str, region: str, req: dict[str, Any]) -> dict[str, Any]:
    if req.get("StackName"):
        return {"Stacks": [describe_stack(STORE.get(account, region, req["StackName"]))]}
    stacks = [s for s in STORE.all(account, region) if s.status != "DELETE_COMPLETE"]
    return {"Stacks": [describe_stack(s) for s in reversed(stacks)]}


def list_stacks(account: str, region: str, req: dict[str, Any]) -> dict[str, Any]:
    wanted = set(req.get("StackStatusFilter") or [])
    out = []
    for stack in reversed(STORE.all(account, region)):
        if wanted and stack.status not in wanted:
            continue
        entry = {"StackId": stack.id, "StackName": stack.name, "CreationTime": stack.created, "StackStatus": stack.status}
        for key, value in (("StackStatusReason", stack.reason), ("LastUpdatedTime", stack.updated), ("DeletionTime", stack.deleted),
                           ("TemplateDescription", stack.template.get("Description"))):
            if value:
                entry[key] = value
        out.append(entry)
    return {"StackSummaries": out}


def _resource_view(stack: Stack, res: engine.Resource, time_key: str) -> dict[str, Any]:
    out: dict[str, Any] = {"StackName": stack.name, "StackId": stack.id, "LogicalResourceId": res.logical_id,
                           "ResourceType": res.type, time_key: res.updated, "ResourceStatus": res.status,
                           "DriftInformation": {"StackResourceDriftStatus": "NOT_CHECKED"}}
    if res.physical_id:
        out["PhysicalResourceId"] = res.physical_id
    if res.reason:
        out["ResourceStatusReason"] = res.reason
    return out


def _resources(stack: Stack) -> list[engine.Resource]:
    with stack.lock:
        return [r for r in stack.resources.values() if r.status is not None]


def describe_stack_resource(account: str, region: str, req: dict[str, Any]) -> dict[str, Any]:
    stack = STORE.get(account, region, req["StackName"])
    with stack.lock:
        res = stack.resources.get(req["LogicalResourceId"])
        if res is None or res.status is None:
            raise ApiError(f"Resource {req['LogicalResourceId']} does not exist for stack {req['StackName']}")
        detail = _resource_view(stack, res, "LastUpdatedTimestamp")
        metadata = (res.definition or {}).get("Metadata")
    if metadata is not None:
        detail["Metadata"] = json.dumps(metadata)
    return {"StackResourceDetail": detail}


def describe_stack_resources(account: str, region: str, req: dict[str, Any]) -> dict[str, Any]:
    if not req.get("StackName") and not req.get("PhysicalResourceId"):
        raise ApiError("Either StackName or PhysicalResourceId must be specified.")
    if req.get("StackName"):
        stacks = [STORE.get(account, region, req["StackName"])]
    else:
        stacks = [s for s in STORE.all(account, region) if any(r.physical_id == req["PhysicalResourceId"] for r in _resources(s))]
        if not stacks:
            raise ApiError(f"Stack for {req['PhysicalResourceId']} does not exist")
    out = []
    for stack in stacks:
        for res in _resources(stack):
            if req.get("LogicalResourceId") and res.logical_id != req["LogicalResourceId"]:
                continue
            if req.get("PhysicalResourceId") and res.physical_id != req["PhysicalResourceId"]:
                continue
            out.append(_resource_view(stack, res, "Timestamp"))
    return {"StackResources": out}


def list_stack_resources(account: str, region: str, req: dict[str, Any]) -> dict[str, Any]:
    stack = STORE.get(account, region, req["StackName"])
    summaries = []
    for res in _resources(stack):
        view = _resource_view(stack, res, "LastUpdatedTimestamp")
        summaries.append({k: v for k, v in view.items() if k not in ("StackName", "StackId")})
    page, token = _page(summaries, req.get("NextToken"), 100)
    return {"StackResourceSummaries": page, "NextToken": token}


def describe_stack_events(account: str, region: str, req: dict[str, Any]) -> dict[str, Any]:
    stack = STORE.get(account, region, req["StackName"])
    with stack.lock:
        events = list(reversed(stack.events))  # newest first, as CloudFormation lists them
    page, token = _page(events, req.get("NextToken"), 100)
    return {"StackEvents": page, "NextToken": token}


def get_template(account: str, region: str, req: dict[str, Any]) -> dict[str, Any]:
    stack = STORE.get(account, region, req.get("StackName"))
    return {"TemplateBody": stack.template_body, "StagesAvailable": ["Original", "Processed"]}


def _page(items: list[Any], token: str | None, size: int) -> tuple[list[Any], str | None]:
    start = 0
    if token:
        try:
            start = int(json.loads(base64.b64decode(token))["offset"])
        except (ValueError, KeyError, TypeError):
            raise ApiError(f"Invalid NextToken {token}") from None
    end = start + size
    return items[start:end], base64.b64encode(json.dumps({"offset": end}).encode()).decode() if end < len(items) else None


HANDLERS: dict[str, Callable[[str, str, dict[str, Any]], dict[str, Any]]] = {
    "CreateStack": create_stack, "UpdateStack": update_stack, "DeleteStack": delete_stack, "DescribeStacks": describe_stacks,
    "ListStacks": list_stacks, "DescribeStackResource": describe_stack_resource, "DescribeStackResources": describe_stack_resources,
    "ListStackResources": list_stack_resources, "DescribeStackEvents": describe_stack_events, "GetTemplate": get_template,
}
