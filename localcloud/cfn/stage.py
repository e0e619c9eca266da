"""TEST ONLY: make CloudFormation's state what it is while it sends a given custom resource request.

For tests that hand a request to the provider directly (cases CloudFormation
cannot be made to send): `POST /_localcloud/cloudformation/stage` with
{"request": <the request as the provider receives it>, "phase": ...} creates
the stack record from the StackId if absent (its account, region, name and
id), and sets the stack status, the resource (type, status, physical id) and
the events exactly as the engine (engine.py) shows them during that request.
No request is sent and nothing runs afterwards: the stack stays in that state.
"""

from __future__ import annotations

import json
from typing import Any

from localcloud.cfn import api
from localcloud.cfn.engine import Resource, Stack

# (RequestType, phase) -> (stack status, resource status)
PHASES = {
    ("Create", None): ("CREATE_IN_PROGRESS", "CREATE_IN_PROGRESS"),
    ("Create", "update"): ("UPDATE_IN_PROGRESS", "CREATE_IN_PROGRESS"),
    ("Update", None): ("UPDATE_IN_PROGRESS", "UPDATE_IN_PROGRESS"),
    ("Update", "rollback"): ("UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_IN_PROGRESS"),
    ("Delete", None): ("DELETE_IN_PROGRESS", "DELETE_IN_PROGRESS"),
    ("Delete", "stack-delete"): ("DELETE_IN_PROGRESS", "DELETE_IN_PROGRESS"),
    ("Delete", "rollback"): ("ROLLBACK_IN_PROGRESS", "DELETE_IN_PROGRESS"),
    ("Delete", "cleanup"): ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE"),
    ("Delete", "rollback-cleanup"): ("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE"),
}


class StageError(ValueError):
    """A stage request that cannot be staged, with what is wrong."""


def stage(spec: Any) -> dict[str, Any]:
    if not isinstance(spec, dict) or not isinstance(spec.get("request"), dict):
        raise StageError('the body must be {"request": {...custom resource request...}, "phase"?: ...}')
    request, phase = spec["request"], spec.get("phase")
    kind = request.get("RequestType")
    if (kind, phase) not in PHASES:
        allowed = ", ".join(f"{k}/{p or 'default'}" for k, p in PHASES)
        raise StageError(f"RequestType {kind!r} with phase {phase!r} cannot be staged; use one of: {allowed}")
    stack_id, logical, resource_type = request.get("StackId"), request.get("LogicalResourceId"), request.get("ResourceType")
    parts = str(stack_id).split(":")
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "cloudformation" or not parts[5].startswith("stack/") or parts[5].count("/") != 2:
        raise StageError(f"StackId {stack_id!r} is not a stack ARN (arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/ID)")
    if not isinstance(logical, str) or not logical or not isinstance(resource_type, str) or not resource_type:
        raise StageError("LogicalResourceId and ResourceType are required")
    physical = request.get("PhysicalResourceId")
    if kind != "Create" and not isinstance(physical, str):
        raise StageError(f"PhysicalResourceId is required for {kind}")
    region, account, name = parts[3], parts[4], parts[5].split("/")[1]
    stack_status, resource_status = PHASES[(kind, phase)]

    stack = api.STORE.find(account, region, stack_id)
    if stack is None:
        stack = Stack(account, region, name, stack_id)
        stack.template = {"Resources": {}}
        api.STORE.add(stack)
    with stack.lock:
        properties = request.get("ResourceProperties") or {}
        stack.template.setdefault("Resources", {})[logical] = {"Type": resource_type, "Properties": properties}
        stack.template_body = json.dumps(stack.template)
        res = stack.resources.get(logical)
        if res is None or res.type != resource_type:
            res = Resource(logical, resource_type)
            stack.resources[logical] = res
        res.properties = properties
        res.definition = stack.template["Resources"][logical]
    if stack_status.startswith("UPDATE") and stack_status != "UPDATE_IN_PROGRESS":
        stack.set_status("UPDATE_IN_PROGRESS", "User Initiated")  # the update this phase belongs to began first
    if stack_status == "ROLLBACK_IN_PROGRESS" and stack.status != "CREATE_IN_PROGRESS":
        stack.set_status("CREATE_IN_PROGRESS", "User Initiated")
    stack.set_status(stack_status, "User Initiated" if stack_status in ("CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "DELETE_IN_PROGRESS") else None)
    if phase in ("cleanup", "rollback-cleanup"):
        # The replaced id is deleted while the resource already shows its current one.
        current = spec.get("current_physical_id") or f"{physical}-replacement"
        if current == physical:
            raise StageError("current_physical_id must differ from the PhysicalResourceId being deleted in a cleanup phase")
        stack.set_resource(res, "UPDATE_COMPLETE", physical=current)
        stack.event(logical, physical, resource_type, "DELETE_IN_PROGRESS")
    else:
        stack.set_resource(res, resource_status, physical=physical if kind != "Create" else None)
    view = json.loads(json.dumps(api.describe_stack(stack), default=lambda d: d.isoformat()))
    return {"stack": view, "resource": {"LogicalResourceId": logical, "ResourceType": resource_type,
                                                            "ResourceStatus": res.status, "PhysicalResourceId": res.physical_id}}
