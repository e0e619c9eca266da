"""Change sets: CreateChangeSet, DescribeChangeSet, ListChangeSets, DeleteChangeSet, ExecuteChangeSet.

Names, shapes and error codes are those of the CloudFormation API model
(botocore cloudformation/2010-05-15, service-2.json: operations above and
GetTemplate's ChangeSetName / TemplateStage; shapes Change, ResourceChange,
ResourceChangeDetail, ResourceTargetDefinition, ChangeSetSummary; errors
ChangeSetNotFoundException `ChangeSetNotFound` 404,
InvalidChangeSetStatusException `InvalidChangeSetStatus` 400,
AlreadyExistsException, InsufficientCapabilitiesException). Behaviour
follows the API reference of each operation and the User Guide's "Update
CloudFormation stacks using change sets"
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-changesets.html);
what the documents leave open is listed in localcloud/README.md.

Changes are computed as an execution would apply them: a resource is
modified exactly when the engine's update would send it an Update (its
resolved properties differ from those last applied), so a change set never
disagrees with its own execution.
"""

from __future__ import annotations

import re
import threading
import uuid
from typing import Any

from localcloud.cfn import api, engine
from localcloud.cfn import template as tpl
from localcloud.cfn.api import STORE as STACKS
from localcloud.cfn.api import modeled_error
from localcloud.cfn.engine import Stack, is_custom
from localcloud.cfn.template import ResolveError, TemplateError
from localcloud.cfn.wire import ApiError

CHANGE_SET_NAME = api.STACK_NAME  # the model's ChangeSetName pattern is the stack name's: [a-zA-Z][-a-zA-Z0-9]*, 1-128
NO_CHANGES = "The submitted information didn't contain changes. Submit different information to create a change set."


class ChangeSet:
    def __init__(self, stack: Stack, name: str, kind: str):
        self.stack, self.name, self.kind = stack, name, kind
        self.id = f"arn:aws:cloudformation:{stack.region}:{stack.account}:changeSet/{name}/{uuid.uuid4()}"
        self.created = engine.now()
        self.status, self.reason, self.execution = "CREATE_PENDING", None, "UNAVAILABLE"
        self.template: dict[str, Any] = {}
        self.body = ""
        self.parameters: dict[str, Any] = {}
        self.capabilities: list[str] | None = None
        self.tags: list[dict[str, str]] | None = None
        self.notification_arns: list[str] | None = None
        self.description: str | None = None
        self.on_stack_failure: str | None = None
        self.changes: list[dict[str, Any]] = []
        # The stack as it was when the change set was made: a change set made
        # against an older version of the stack can no longer be executed.
        self.base = (stack.template_body, dict(stack.parameters), stack.updated)

    def execution_status(self) -> str:
        if self.execution == "AVAILABLE" and self.base != (self.stack.template_body, self.stack.parameters, self.stack.updated):
            return "OBSOLETE"  # ChangeSetSummary.ExecutionStatus: "OBSOLETE state because the stack was already updated"
        return self.execution


class Store:
    """Change sets by StackId; those of a deleted stack are gone with it."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.by_stack: dict[str, list[ChangeSet]] = {}

    def add(self, change_set: ChangeSet) -> None:
        with self.lock:
            self.by_stack.setdefault(change_set.stack.id, []).append(change_set)

    def of(self, stack: Stack) -> list[ChangeSet]:
        with self.lock:
            return list(self.by_stack.get(stack.id, [])) if stack.status != "DELETE_COMPLETE" else []

    def remove(self, change_set: ChangeSet) -> None:
        with self.lock:
            kept = [c for c in self.by_stack.get(change_set.stack.id, []) if c is not change_set]
            self.by_stack[change_set.stack.id] = kept

    def by_arn(self, account: str, region: str, arn: str) -> ChangeSet | None:
        with self.lock:
            every = [c for sets in self.by_stack.values() for c in sets]
        for change_set in every:
            if change_set.id == arn and (change_set.stack.account, change_set.stack.region) == (account, region):
                return change_set if change_set.stack.status != "DELETE_COMPLETE" else None
        return None

    def clear(self) -> None:
        with self.lock:
            self.by_stack.clear()


STORE = Store()


def not_found(name: str) -> ApiError:
    return modeled_error("ChangeSetNotFoundException", f"ChangeSet [{name}] does not exist")


def find(account: str, region: str, req: dict[str, Any]) -> ChangeSet:
    """The change set a request names: its ARN, or its name with StackName (the operations' ChangeSetName member)."""
    name = req["ChangeSetName"]
    if name.startswith("arn:"):
        found = STORE.by_arn(account, region, name)
        if found is None or (req.get("StackName") and STACKS.find(account, region, req["StackName"]) is not found.stack):
            raise not_found(name)
        return found
    if not req.get("StackName"):
        raise ApiError("StackName must be specified if ChangeSetName is not specified as an ARN.")
    stack = STACKS.find(account, region, req["StackName"])
    for change_set in reversed(STORE.of(stack) if stack is not None else []):
        if change_set.name == name:
            return change_set
    raise not_found(name)


def stack_arn_of(account: str, region: str, change_set_arn: str) -> str | None:
    """The StackId of a change set named by its ARN (IAM authorizes change set calls on the stack)."""
    found = STORE.by_arn(account, region, change_set_arn)
    return found.stack.id if found is not None else None


# -- CreateChangeSet -------------------------------------------------------------------------------

def create_change_set(account: str, region: str, req: dict[str, Any]) -> dict[str, Any]:
    name, stack_name = req["ChangeSetName"], req["StackName"]
    if not CHANGE_SET_NAME.fullmatch(name):
        raise ApiError(f"1 validation error detected: Value '{name}' at 'changeSetName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*")
    kind = req.get("ChangeSetType") or "UPDATE"  # the model: "By default, CloudFormation specifies UPDATE"
    if kind == "IMPORT":
        raise ApiError("ChangeSetType IMPORT is not supported by the local cloud: use CREATE or UPDATE")
    if req.get("TemplateURL"):
        raise ApiError("TemplateURL is not supported by the local cloud: pass the template as TemplateBody")
    stack = STACKS.find(account, region, stack_name)
    if kind == "UPDATE":
        if stack is None or stack.status == "REVIEW_IN_PROGRESS":
            raise ApiError(f"Stack [{stack_name}] does not exist")
        if stack.status.endswith("_IN_PROGRESS") or stack.status in ("CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED", "UPDATE_ROLLBACK_FAILED"):
            raise ApiError(f"Stack:{stack.id} is in {stack.status} state and can not be updated.")
    elif stack is not None and stack.status != "REVIEW_IN_PROGRESS":
        raise ApiError(f"Stack [{stack_name}] already exists and cannot be created again with the changeSet [{name}].")
    elif stack_name.startswith("arn:"):
        raise ApiError(f"Stack [{stack_name}] does not exist")
    elif not api.STACK_NAME.fullmatch(stack_name):
        raise ApiError(f"1 validation error detected: Value '{stack_name}' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*")
    if stack is not None and any(c.name == name for c in STORE.of(stack)):
        raise modeled_error("AlreadyExistsException", f"ChangeSet [{name}] already exists")

    if req.get("UsePreviousTemplate"):
        if stack is None or kind == "CREATE":
            raise ApiError("UsePreviousTemplate is only for a change set of type UPDATE: pass TemplateBody")
        template, body = stack.template, stack.template_body
    else:
        template, body = api.template_from(req)
    api.check_capabilities(template, req.get("Capabilities") or [])
    given, previous = api.given_parameters(req)
    probe = stack or Stack(account, region, stack_name)
    try:
        parameters = tpl.resolve_parameters(template, given, probe.parameters if kind == "UPDATE" else None, previous)
        tpl.validate(template, probe.context(template, parameters).active)
    except TemplateError as err:
        raise ApiError(str(err)) from None

    if stack is None:  # CREATE: "CloudFormation creates a stack with a unique stack ID, but no template or resources"
        stack = Stack(account, region, stack_name)
        stack.set_status("REVIEW_IN_PROGRESS", "User Initiated")
        STACKS.add(stack)
    change_set = ChangeSet(stack, name, kind)
    change_set.template, change_set.body, change_set.parameters = template, body, parameters
    change_set.capabilities = req.get("Capabilities")
    change_set.tags = req.get("Tags")
    change_set.notification_arns = req.get("NotificationARNs")
    change_set.description = req.get("Description")
    change_set.on_stack_failure = req.get("OnStackFailure")
    STORE.add(change_set)
    threading.Thread(target=_compute, args=(change_set,), daemon=True, name=f"changeset-{name}").start()
    return {"Id": change_set.id, "StackId": stack.id}


def _compute(change_set: ChangeSet) -> None:
    """CREATE_PENDING → CREATE_IN_PROGRESS → CREATE_COMPLETE (AVAILABLE), or FAILED (UNAVAILABLE)."""
    change_set.status = "CREATE_IN_PROGRESS"
    stack = change_set.stack
    try:
        with stack.lock:
            changes = changes_of(change_set)
            unchanged = (change_set.kind == "UPDATE" and change_set.body == stack.template_body
                         and change_set.parameters == stack.parameters
                         and change_set.tags in (None, stack.tags))
    except Exception as err:  # a template the engine cannot order: the change set fails, as its execution would
        change_set.status, change_set.reason = "FAILED", str(err)
        return
    if unchanged:
        change_set.status, change_set.reason = "FAILED", NO_CHANGES
        return
    change_set.changes = changes
    change_set.status, change_set.execution = "CREATE_COMPLETE", "AVAILABLE"


def changes_of(change_set: ChangeSet) -> list[dict[str, Any]]:
    """The Change list: Add, Modify (with one ResourceChangeDetail per top-level property), Remove."""
    stack, template, parameters = change_set.stack, change_set.template, change_set.parameters
    ctx = stack.context(template, parameters)
    names = tpl.order(template, ctx.active)
    current = {n: r for n, r in stack.resources.items() if r.status not in (None, "DELETE_COMPLETE")}
    changed_parameters = {k for k in set(parameters) | set(stack.parameters) if parameters.get(k) != stack.parameters.get(k)}
    out = []
    for logical in names:
        definition = template["Resources"][logical]
        res = current.get(logical)
        if res is None:
            out.append(_change({"Action": "Add", "LogicalResourceId": logical, "ResourceType": definition["Type"],
                                "Scope": [], "Details": []}))
            continue
        detail = _modification(ctx, res, definition, changed_parameters)
        if detail is not None:
            out.append(_change(detail))
    for logical, res in current.items():
        if logical not in names:
            policy = (res.definition or {}).get("DeletionPolicy")
            change = {"Action": "Remove", "LogicalResourceId": logical, "ResourceType": res.type, "Scope": [], "Details": [],
                      "PolicyAction": "Retain" if policy in ("Retain", "RetainExceptOnCreate") else "Delete"}
            if res.physical_id:
                change["PhysicalResourceId"] = res.physical_id
            out.append(_change(change))
    return out


def _change(resource_change: dict[str, Any]) -> dict[str, Any]:
    return {"Type": "Resource", "ResourceChange": resource_change}


def _modification(ctx: tpl.Context, res: engine.Resource, definition: dict[str, Any], changed_parameters: set[str]) -> dict[str, Any] | None:
    """A Modify change when the resource's properties (resolved as an execution resolves them) differ, else None."""
    raw_new = definition.get("Properties") or {}
    raw_old = (res.definition or {}).get("Properties") or {}
    try:
        resolved = ctx.resolve(raw_new)
        new = tpl.stringify(resolved) if is_custom(res.type) else resolved
        evaluation = "Static"
    except (TemplateError, ResolveError):
        new, evaluation = None, "Dynamic"  # depends on an attribute known only during the update
    old = res.properties or {}
    if evaluation == "Static" and new == old and definition.get("Type") == res.type:
        return None
    names = sorted(set(old) | set(new or {})) if new is not None else sorted(set(raw_old) | set(raw_new))
    details = []
    for prop in names:
        if new is not None and old.get(prop) == new.get(prop):
            continue
        if new is None and raw_old.get(prop) == raw_new.get(prop):
            continue
        source, entity = _source(raw_old.get(prop), raw_new.get(prop), ctx.template, changed_parameters)
        detail: dict[str, Any] = {
            "Target": {"Attribute": "Properties", "Name": prop, "RequiresRecreation": _recreation(res.type, prop)},
            "Evaluation": evaluation, "ChangeSource": source,
        }
        if entity:
            detail["CausingEntity"] = entity
        details.append(detail)
    change: dict[str, Any] = {"Action": "Modify", "LogicalResourceId": res.logical_id, "ResourceType": res.type,
                              "Replacement": _replacement(details), "Scope": ["Properties"] if details else [], "Details": details}
    if res.physical_id:
        change["PhysicalResourceId"] = res.physical_id
    return change


def _recreation(resource_type: str, prop: str) -> str:
    """ResourceTargetDefinition.RequiresRecreation. A custom resource's provider decides a replacement (by answering
    a new PhysicalResourceId), so CloudFormation cannot know it: Never, except the ServiceToken, whose update is
    not supported (AWS::CloudFormation::CustomResource reference). moto's models carry no update behaviour for
    native types, so their properties are Conditionally."""
    if is_custom(resource_type):
        return "Always" if prop == "ServiceToken" else "Never"
    return "Conditionally"


def _replacement(details: list[dict[str, Any]]) -> str:
    """ResourceChange.Replacement from RequiresRecreation and Evaluation, as the model's documentation derives it."""
    recreations = [(d["Target"]["RequiresRecreation"], d["Evaluation"]) for d in details]
    if ("Always", "Static") in recreations:
        return "True"
    if any(r != "Never" for r, _ in recreations):
        return "Conditional"
    return "False"


def _source(old: Any, new: Any, template: dict[str, Any], changed_parameters: set[str]) -> tuple[str, str | None]:
    """ResourceChangeDetail.ChangeSource and CausingEntity: the property's text changed (DirectModification), or a
    parameter it refers to (ParameterReference), or a resource it refers to (ResourceReference / ResourceAttribute)."""
    if old != new:
        return "DirectModification", None
    declared = set(template.get("Parameters") or {})
    refs = _references(new)
    for name in sorted(refs["Ref"]):
        if name in declared and name in changed_parameters:
            return "ParameterReference", name
    if refs["GetAtt"]:
        return "ResourceAttribute", sorted(refs["GetAtt"])[0]
    if refs["Ref"]:
        return "ResourceReference", sorted(refs["Ref"])[0]
    return "Automatic", None


def _references(value: Any) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {"Ref": set(), "GetAtt": set()}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("Ref"), str):
                found["Ref"].add(node["Ref"])
            attr = node.get("Fn::GetAtt")
            if isinstance(attr, list) and attr:
                found["GetAtt"].add(f"{attr[0]}.{attr[1]}" if len(attr) > 1 else str(attr[0]))
            sub = node.get("Fn::Sub")
            text = sub[0] if isinstance(sub, list) and sub else sub
            if isinstance(text, str):
                for name in re.findall(r"\$\{([^!}][^}]*)\}", text):
                    (found["GetAtt"] if "." in name else found["Ref"]).add(name)
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(value)
    return found


# -- the other calls -------------------------------------------------------------------------------

def _parameters_view(template: dict[str, Any], values: dict[str, Any]) -> list[dict[str, str]]:
    declared = template.get("Parameters") or {}
    out = []
    for key, value in values.items():
        shown = ",".join(value) if isinstance(value, list) else str(value)
        if str((declared.get(key) or {}).get("NoEcho", "false")).lower() == "true":
            shown = "****"  # as DescribeStacks shows NoEcho values
        out.append({"ParameterKey": key, "ParameterValue": shown})
    return out


def describe_change_set(account: str, region: str, req: dict[str, Any]) -> dict[str, Any]:
    change_set = find(account, region, req)
    out: dict[str, Any] = {
        "ChangeSetName": change_set.name, "ChangeSetId": change_set.id, "StackId": change_set.stack.id,
        "StackName": change_set.stack.name, "Description": change_set.description,
        "Parameters": _parameters_view(change_set.template, change_set.parameters), "CreationTime": change_set.created,
        "ExecutionStatus": change_set.execution_status(), "Status": change_set.status, "StatusReason": change_set.reason,
        "NotificationARNs": change_set.notification_arns if change_set.notification_arns is not None else change_set.stack.notification_arns,
        "Capabilities": change_set.capabilities or [], "Tags": change_set.tags if change_set.tags is not None else change_set.stack.tags,
        "Changes": change_set.changes, "IncludeNestedStacks": False, "OnStackFailure": change_set.on_stack_failure,
    }
    return out


def list_change_sets(account: str, region: str, req: dict[str, Any]) -> dict[str, Any]:
    stack = STACKS.get(account, region, req["StackName"])
    summaries = []
    for change_set in STORE.of(stack):
        summary = {"StackId": stack.id, "StackName": stack.name, "ChangeSetId": change_set.id, "ChangeSetName": change_set.name,
                   "ExecutionStatus": change_set.execution_status(), "Status": change_set.status, "StatusReason": change_set.reason,
                   "CreationTime": change_set.created, "Description": change_set.description, "IncludeNestedStacks": False}
        summaries.append(summary)
    return {"Summaries": summaries}


def delete_change_set(account: str, region: str, req: dict[str, Any]) -> dict[str, Any]:
    change_set = find(account, region, req)
    if change_set.execution_status() == "EXECUTE_IN_PROGRESS":
        raise modeled_error("InvalidChangeSetStatusException",
                            f"Cannot delete ChangeSet [{change_set.id}] in its current execution status of [EXECUTE_IN_PROGRESS]")
    STORE.remove(change_set)
    return {}


def execute_change_set(account: str, region: str, req: dict[str, Any]) -> dict[str, Any]:
    change_set = find(account, region, req)
    stack = change_set.stack
    with stack.lock:
        status = change_set.execution_status()
        if status != "AVAILABLE":
            raise modeled_error("InvalidChangeSetStatusException",
                                f"ChangeSet [{change_set.id}] cannot be executed in its current execution status of [{status}]")
        if not stack.idle.is_set() or stack.delete_pending:
            raise ApiError(f"Stack:{stack.id} is in {stack.status} state and can not be updated.")
        if req.get("DisableRollback") is not None and change_set.on_stack_failure:
            raise ApiError("DisableRollback cannot be specified when OnStackFailure was specified when creating the change set")
        if change_set.tags is not None:
            stack.tags = change_set.tags
        if change_set.capabilities is not None:
            stack.capabilities = change_set.capabilities
        if change_set.notification_arns is not None:
            stack.notification_arns = change_set.notification_arns
        stack.client_token = req.get("ClientRequestToken")
        change_set.execution = "EXECUTE_IN_PROGRESS"
        # ExecuteChangeSet: "CloudFormation deletes all other change sets associated with the stack".
        for other in STORE.of(stack):
            if other is not change_set:
                STORE.remove(other)
        template, body, parameters = change_set.template, change_set.body, change_set.parameters

        if change_set.kind == "CREATE":
            if req.get("DisableRollback"):
                stack.on_failure = "DO_NOTHING"
            elif change_set.on_stack_failure:
                stack.on_failure = change_set.on_stack_failure
            stack.disable_rollback = stack.on_failure == "DO_NOTHING"
            stack.template, stack.template_body, stack.parameters = template, body, parameters

            def work() -> None:
                engine.run_create(stack)
                change_set.execution = "EXECUTE_COMPLETE" if stack.status == "CREATE_COMPLETE" else "EXECUTE_FAILED"
        else:
            if req.get("DisableRollback"):
                raise ApiError("DisableRollback on an update is not supported by the local cloud: updates always roll back")

            # ExecuteChangeSet answers once the stack shows UPDATE_IN_PROGRESS, as UpdateStack does.
            stack.set_status("UPDATE_IN_PROGRESS", "User Initiated")

            def work() -> None:
                engine.run_update(stack, template, body, parameters, started=True)
                change_set.execution = "EXECUTE_COMPLETE" if stack.status == "UPDATE_COMPLETE" else "EXECUTE_FAILED"

        engine.start(stack, work)
    return {}


def get_template(account: str, region: str, req: dict[str, Any]) -> dict[str, Any]:
    """GetTemplate of a change set (ChangeSetName), else of the stack. No transforms run here, so the
    Original and Processed stages (TemplateStage) are the same template."""
    if not req.get("ChangeSetName"):
        return api.get_template(account, region, req)
    change_set = find(account, region, req)
    return {"TemplateBody": change_set.body, "StagesAvailable": ["Original", "Processed"]}


HANDLERS = {
    "CreateChangeSet": create_change_set, "DescribeChangeSet": describe_change_set, "ListChangeSets": list_change_sets,
    "DeleteChangeSet": delete_change_set, "ExecuteChangeSet": execute_change_set, "GetTemplate": get_template,
}
