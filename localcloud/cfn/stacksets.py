"""StackSets: each stack instance is a stack (`StackSet-<name>-<uuid>`) made in its account and region by the stack engine.

Sources (CloudFormation User Guide and API reference):
- Concepts, permission models, instance status (CURRENT, OUTDATED, INOPERABLE),
  detailed status (PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED, INOPERABLE),
  operation status (RUNNING, SUCCEEDED, FAILED, STOPPED, QUEUED):
  https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-concepts.html
- Service-managed StackSets deploy to accounts of organizational units and never
  to the management account:
  https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-orgs-manage-auto-deployment.html
- Instance stack names `StackSet-<stack set name>-<uuid>`:
  https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-getting-started-create.html
- Parameter overrides per instance: API_CreateStackInstances.html, API_UpdateStackInstances.html
- One operation at a time per StackSet (OperationInProgressException) unless
  managed execution queues them: API_StackSetOperation.html, API_ManagedExecution.html
"""

from __future__ import annotations

import datetime
import threading
import uuid
from typing import Any, Callable

from localcloud.cfn import api
from localcloud.cfn.engine import now
from localcloud.cfn.store import RegionalStore
from localcloud.cfn.template import TemplateError
from localcloud.cfn.wire import ApiError

STABLE = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "ROLLBACK_COMPLETE", "CREATE_FAILED",
          "ROLLBACK_FAILED", "UPDATE_ROLLBACK_FAILED", "DELETE_COMPLETE", "DELETE_FAILED")


class Instance:
    def __init__(self, stack_set: "StackSet", account: str, region: str, ou_id: str | None):
        self.account, self.region, self.ou_id = account, region, ou_id
        self.stack_name = f"StackSet-{stack_set.name}-{uuid.uuid4()}"
        self.stack_id = f"arn:aws:cloudformation:{region}:{account}:stack/{self.stack_name}/{uuid.uuid4()}"
        self.overrides: list[dict[str, str]] = []
        self.status = "OUTDATED"
        self.detailed = "PENDING"
        self.reason: str | None = None
        self.last_operation: str | None = None

    def renew(self, stack_set: "StackSet") -> None:
        """A fresh stack for the instance (its last one failed to create and was rolled back)."""
        self.stack_name = f"StackSet-{stack_set.name}-{uuid.uuid4()}"
        self.stack_id = f"arn:aws:cloudformation:{self.region}:{self.account}:stack/{self.stack_name}/{uuid.uuid4()}"


class Operation:
    def __init__(self, action: str, req: dict[str, Any], targets: list[tuple[str, str]]):
        self.id = req.get("OperationId") or str(uuid.uuid4())
        self.action = action
        self.status = "QUEUED"
        self.created = now()
        self.ended: datetime.datetime | None = None
        self.preferences = req.get("OperationPreferences") or {}
        self.retain = bool(req.get("RetainStacks"))
        self.deployment_targets = req.get("DeploymentTargets")
        self.targets = targets
        self.results: list[dict[str, Any]] = []
        self.reason: str | None = None


class StackSet:
    def __init__(self, account: str, region: str, req: dict[str, Any], template: dict[str, Any], body: str):
        self.account, self.region = account, region
        self.name = req["StackSetName"]
        self.id = f"{self.name}:{uuid.uuid4()}"
        self.arn = f"arn:aws:cloudformation:{region}:{account}:stackset/{self.id}"
        self.description = req.get("Description") or template.get("Description")
        self.template, self.body = template, body
        self.parameters: list[dict[str, str]] = [
            {"ParameterKey": p["ParameterKey"], "ParameterValue": p.get("ParameterValue", "")} for p in req.get("Parameters") or []
        ]
        self.capabilities = req.get("Capabilities") or []
        self.tags = req.get("Tags") or []
        self.permission_model = req.get("PermissionModel") or "SELF_MANAGED"
        self.auto_deployment = req.get("AutoDeployment")
        self.managed_execution = req.get("ManagedExecution") or {"Active": False}
        self.admin_role = req.get("AdministrationRoleARN") or f"arn:aws:iam::{account}:role/AWSCloudFormationStackSetAdministrationRole"
        self.execution_role = req.get("ExecutionRoleName") or "AWSCloudFormationStackSetExecutionRole"
        self.status = "ACTIVE"
        self.instances: dict[tuple[str, str], Instance] = {}
        self.operations: dict[str, Operation] = {}
        self.lock = threading.RLock()
        self.queue: list[tuple[Operation, Callable[[], None]]] = []
        self.worker: threading.Thread | None = None

    def running(self) -> bool:
        return any(op.status in ("RUNNING", "QUEUED") for op in self.operations.values())


STORE: RegionalStore[StackSet] = RegionalStore(
    "DELETED", lambda name_or_id: api.modeled_error("StackSetNotFoundException", f"StackSet {name_or_id} not found"))


# -- targets -------------------------------------------------------------------------------------------

def _organization(account: str) -> tuple[Any, str] | None:
    """(the organizations backend, the management account) of the organization `account` belongs to."""
    from moto.organizations.models import organizations_backends

    for management, backends in list(organizations_backends.items()):
        backend = backends["aws"]
        if backend.org is not None and backend.org.master_account_id == management:
            if any(a.id == account for a in backend.accounts):
                return backend, management
    return None


def _ou_accounts(backend: Any, ou_id: str) -> list[str]:
    known = {ou.id for ou in backend.ou} | {root.id for root in backend.ou if getattr(root, "type", "") == "ROOT"}
    if ou_id not in known:
        raise ApiError(f"OrganizationalUnitIds {ou_id} is not a root or organizational unit of the organization")
    accounts = [a.id for a in backend.accounts if a.parent_id == ou_id and a.status == "ACTIVE"]
    for child in backend.ou:
        if child.parent_id == ou_id:
            accounts += _ou_accounts(backend, child.id)
    return accounts


def resolve_targets(stack_set: StackSet, req: dict[str, Any], existing_only: bool = False) -> list[tuple[str, str, str | None]]:
    """(account, region, OU id) for the request's Accounts / DeploymentTargets and Regions."""
    regions = req.get("Regions") or []
    if not regions:
        raise ApiError("Regions: at least one region is required")
    targets = req.get("DeploymentTargets") or {}
    accounts: list[tuple[str, str | None]] = []
    if stack_set.permission_model == "SERVICE_MANAGED":
        if req.get("Accounts"):
            raise ApiError("StackSets with SERVICE_MANAGED permission model can only have OrganizationalUnit as target")
        ou_ids = targets.get("OrganizationalUnitIds") or []
        if not ou_ids and not existing_only:
            raise ApiError("DeploymentTargets.OrganizationalUnitIds is required for a SERVICE_MANAGED StackSet")
        org = _organization(stack_set.account)
        if org is None:
            raise ApiError("The account is not the management account of an organization (service-managed StackSets need one)")
        backend, management = org
        filter_type = targets.get("AccountFilterType") or "NONE"
        listed = set(targets.get("Accounts") or [])
        for ou_id in ou_ids:
            in_ou = [a for a in _ou_accounts(backend, ou_id) if a != management]
            if filter_type == "INTERSECTION":
                in_ou = [a for a in in_ou if a in listed]
            elif filter_type == "DIFFERENCE":
                in_ou = [a for a in in_ou if a not in listed]
            accounts += [(a, ou_id) for a in in_ou if a not in [x for x, _ in accounts]]
        if filter_type == "UNION":
            accounts += [(a, None) for a in sorted(listed) if a not in [x for x, _ in accounts]]
    else:
        listed_accounts = req.get("Accounts") or targets.get("Accounts") or []
        if targets.get("OrganizationalUnitIds"):
            raise ApiError("DeploymentTargets.OrganizationalUnitIds is only for SERVICE_MANAGED StackSets: give Accounts")
        if not listed_accounts:
            raise ApiError("Accounts: at least one account is required for a SELF_MANAGED StackSet")
        accounts = [(a, None) for a in listed_accounts]
    for account, _ in accounts:
        if not (account.isdigit() and len(account) == 12):
            raise ApiError(f"Account {account} is not a 12-digit account id")
    return [(a, r, ou) for a, ou in accounts for r in regions]


# -- operations ----------------------------------------------------------------------------------------

def _parameters_for(stack_set: StackSet, instance: Instance) -> list[dict[str, str]]:
    values = {p["ParameterKey"]: p["ParameterValue"] for p in stack_set.parameters}
    values.update({p["ParameterKey"]: p.get("ParameterValue", "") for p in instance.overrides})
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]


def _failure_reason(stack: Any) -> str:
    for event in stack.events:
        if event["ResourceStatus"].endswith("_FAILED") and event["LogicalResourceId"] != stack.name:
            return (f"ResourceLogicalId:{event['LogicalResourceId']}, ResourceType:{event['ResourceType']}, "
                    f"ResourceStatusReason:{event.get('ResourceStatusReason', '')}.")
    return stack.reason or stack.status


def _wait(stack: Any) -> None:
    while True:
        stack.idle.wait()
        if stack.status in STABLE:
            return
        stack.idle.wait(0.05)


def _deploy(stack_set: StackSet, instance: Instance) -> str | None:
    """Create or update the instance's stack; None on success, else the reason."""
    from localcloud.cfn.wire import ApiError as Refused

    stack = api.STORE.find(instance.account, instance.region, instance.stack_id)
    if stack is not None and stack.status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED", "DELETE_COMPLETE"):
        if stack.status != "DELETE_COMPLETE":
            api.delete_stack(instance.account, instance.region, {"StackName": stack.id})
            _wait(stack)
        instance.renew(stack_set)
        stack = None
    request = {"TemplateBody": stack_set.body, "Parameters": _parameters_for(stack_set, instance),
               "Capabilities": stack_set.capabilities, "Tags": stack_set.tags}
    try:
        if stack is None:
            api.create_stack(instance.account, instance.region, {**request, "StackName": instance.stack_name},
                             stack_set_id=stack_set.id, stack_id=instance.stack_id)
        else:
            api.update_stack(instance.account, instance.region, {**request, "StackName": stack.id})
    except Refused as err:
        if err.message == "No updates are to be performed.":
            return None
        return err.message
    stack = api.STORE.get(instance.account, instance.region, instance.stack_id)
    _wait(stack)
    if stack.status in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        return None
    return _failure_reason(stack)


def _remove(stack_set: StackSet, instance: Instance, retain: bool) -> str | None:
    stack = api.STORE.find(instance.account, instance.region, instance.stack_id)
    if retain or stack is None or stack.status == "DELETE_COMPLETE":
        return None
    api.delete_stack(instance.account, instance.region, {"StackName": stack.id})
    _wait(stack)
    return None if stack.status == "DELETE_COMPLETE" else _failure_reason(stack)


def _run(stack_set: StackSet, op: Operation) -> None:
    op.status = "RUNNING"
    tolerance = int(op.preferences.get("FailureToleranceCount") or 0)
    failures = 0
    for account, region in op.targets:
        instance = stack_set.instances.get((account, region))
        result = {"Account": account, "Region": region}
        if instance is not None and instance.ou_id:
            result["OrganizationalUnitId"] = instance.ou_id
        if instance is None:
            continue
        instance.last_operation = op.id
        if failures > tolerance:
            instance.detailed, instance.reason = "CANCELLED", "Cancelled since failure tolerance has exceeded"
            op.results.append({**result, "Status": "CANCELLED", "StatusReason": instance.reason})
            continue
        instance.detailed = "RUNNING"
        if op.action == "DELETE":
            reason = _remove(stack_set, instance, op.retain)
            if reason is None:
                with stack_set.lock:
                    stack_set.instances.pop((account, region), None)
                op.results.append({**result, "Status": "SUCCEEDED"})
            else:
                instance.status, instance.detailed, instance.reason = "INOPERABLE", "INOPERABLE", reason
                op.results.append({**result, "Status": "FAILED", "StatusReason": reason})
                failures += 1
            continue
        reason = _deploy(stack_set, instance)
        if reason is None:
            instance.status, instance.detailed, instance.reason = "CURRENT", "SUCCEEDED", None
            op.results.append({**result, "Status": "SUCCEEDED"})
        else:
            instance.status, instance.detailed, instance.reason = "OUTDATED", "FAILED", reason
            op.results.append({**result, "Status": "FAILED", "StatusReason": reason})
            failures += 1
    op.status = "FAILED" if failures > tolerance else "SUCCEEDED"
    if failures > tolerance:
        op.reason = "The operation failed: the failure tolerance was exceeded"
    op.ended = now()


def _submit(stack_set: StackSet, op: Operation, prepare: Callable[[], None]) -> dict[str, Any]:
    with stack_set.lock:
        if op.id in stack_set.operations:
            raise api.modeled_error("OperationIdAlreadyExistsException", f"The operation ID {op.id} already exists")
        if stack_set.running() and not stack_set.managed_execution.get("Active"):
            raise api.modeled_error("OperationInProgressException", f"Another Operation on StackSet {stack_set.id} is in progress")
        prepare()
        stack_set.operations[op.id] = op
        stack_set.queue.append((op, prepare))
        if stack_set.worker is None or not stack_set.worker.is_alive():
            stack_set.worker = threading.Thread(target=_work, args=(stack_set,), daemon=True, name=f"stackset-{stack_set.name}")
            stack_set.worker.start()
    return {"OperationId": op.id}


def _work(stack_set: StackSet) -> None:
    while True:
        with stack_set.lock:
            if not stack_set.queue:
                stack_set.worker = None
                return
            op, _ = stack_set.queue.pop(0)
        try:
            _run(stack_set, op)
        except Exception as err:  # an operation never stays RUNNING
            op.status, op.reason, op.ended = "FAILED", f"Internal failure of the local cloud: {err}", now()


def _check_overrides(stack_set: StackSet, overrides: list[dict[str, Any]]) -> None:
    declared = stack_set.template.get("Parameters") or {}
    for entry in overrides:
        if entry.get("ParameterKey") not in declared:
            raise ApiError(f"ParameterOverrides: {entry.get('ParameterKey')} is not a parameter of the StackSet's template")


# -- handlers -------------------------------------------------------------------------------------------

def create_stack_set(account: str, region: str, req: dict[str, Any]) -> dict[str, Any]:
    if STORE.find(account, region, req["StackSetName"]) is not None:
        raise api.modeled_error("NameAlreadyExistsException", f"StackSet {req['StackSetName']} already exists")
    if req.get("StackId"):
        raise ApiError("Importing a stack into a StackSet (StackId) is not implemented by the local cloud")
    template, body = api.template_from(req)
    api.check_capabilities(template, req.get("Capabilities") or [])
    stack_set = StackSet(account, region, req, template, body)
    if stack_set.permission_model == "SERVICE_MANAGED" and _organization(account) is None:
        raise ApiError("A SERVICE_MANAGED StackSet is created in the management account of an organization")
    try:
        given = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack_set.parameters}
        unknown = sorted(set(given) - set(template.get("Parameters") or {}))
        if unknown:
            raise TemplateError(f"Parameters: [{', '.join(unknown)}] do not exist in the template")
    except TemplateError as err:
        raise ApiError(str(err)) from None
    STORE.add(stack_set)
    return {"StackSetId": stack_set.id}


def describe_stack_set(account: str, region: str, req: dict[str, Any]) -> dict[str, Any]:
    stack_set = STORE.get(account, region, req["StackSetName"])
    out: dict[str, Any] = {
        "StackSetName": stack_set.name, "StackSetId": stack_set.id, "Status": stack_set.status, "TemplateBody": stack_set.body,
        "Parameters": stack_set.parameters, "Capabilities": stack_set.capabilities, "Tags": stack_set.tags,
        "StackSetARN": stack_set.arn, "PermissionModel": stack_set.permission_model,
        "ManagedExecution": stack_set.managed_execution,
        "Regions": sorted({r for _, r in stack_set.instances}),
        "StackSetDriftDetectionDetails": {"DriftStatus": "NOT_CHECKED"},
    }
    if stack_set.description:
        out["Description"] = stack_set.description
    if stack_set.permission_model == "SERVICE_MANAGED":
        out["AutoDeployment"] = stack_set.auto_deployment or {"Enabled": False}
        out["OrganizationalUnitIds"] = sorted({i.ou_id for i in stack_set.instances.values() if i.ou_id})
    else:
        out["AdministrationRoleARN"], out["ExecutionRoleName"] = stack_set.admin_role, stack_set.execution_role
    return {"StackSet": out}


def list_stack_sets(account: str, region: str, req: dict[str, Any]) -> dict[str, Any]:
    wanted = req.get("Status")
    out = []
    for stack_set in STORE.all(account, region):
        if wanted and stack_set.status != wanted:
            continue
        out.append({"StackSetName": stack_set.name, "StackSetId": stack_set.id, "Status": stack_set.status,
                    "PermissionModel": stack_set.permission_model, "DriftStatus": "NOT_CHECKED",
                    "ManagedExecution": stack_set.managed_execution, **({"Description": stack_set.description} if stack_set.description else {})})
    return {"Summaries": out}


def update_stack_set(account: str, region: str, req: dict[str, Any]) -> dict[str, Any]:
    stack_set = STORE.get(account, region, req["StackSetName"])
    if req.get("UsePreviousTemplate"):
        template, body = stack_set.template, stack_set.body
    else:
        template, body = api.template_from(req)
    api.check_capabilities(template, req.get("Capabilities") if req.get("Capabilities") is not None else stack_set.capabilities)
    previous = {p["ParameterKey"]: p["ParameterValue"] for p in stack_set.parameters}
    parameters = []
    for entry in req.get("Parameters") or []:
        if entry.get("UsePreviousValue"):
            if entry["ParameterKey"] not in previous:
                raise ApiError(f"Invalid input for parameter key {entry['ParameterKey']}. Cannot specify usePreviousValue as true for a parameter key not in the previous template")
            parameters.append({"ParameterKey": entry["ParameterKey"], "ParameterValue": previous[entry["ParameterKey"]]})
        else:
            parameters.append({"ParameterKey": entry["ParameterKey"], "ParameterValue": entry.get("ParameterValue", "")})
    unknown = sorted({p["ParameterKey"] for p in parameters} - set(template.get("Parameters") or {}))
    if unknown:
        raise ApiError(f"Parameters: [{', '.join(unknown)}] do not exist in the template")
    if req.get("Accounts") or req.get("DeploymentTargets"):
        wanted = {(a, r) for a, r, _ in resolve_targets(stack_set, req, existing_only=True)}
        targets = [key for key in stack_set.instances if key in wanted]
    else:
        targets = list(stack_set.instances)
    op = Operation("UPDATE", req, targets)

    def prepare() -> None:
        stack_set.template, stack_set.body, stack_set.parameters = template, body, parameters
        for key in ("Description", "Tags", "Capabilities"):
            if req.get(key) is not None:
                setattr(stack_set, key.lower(), req[key])
        if req.get("ManagedExecution") is not None:
            stack_set.managed_execution = req["ManagedExecution"]
        if req.get("AutoDeployment") is not None:
            stack_set.auto_deployment = req["AutoDeployment"]
        for instance in stack_set.instances.values():
            instance.status = "OUTDATED"
        for key in targets:
            stack_set.instances[key].detailed = "PENDING"

    return _submit(stack_set, op, prepare)


def create_stack_instances(account: str, region: str, req: dict[str, Any]) -> dict[str, Any]:
    stack_set = STORE.get(account, region, req["StackSetName"])
    overrides = req.get("ParameterOverrides") or []
    _check_overrides(stack_set, overrides)
    targets = resolve_targets(stack_set, req)
    op = Operation("CREATE", req, [(a, r) for a, r, _ in targets])

    def prepare() -> None:
        for account_id, target_region, ou_id in targets:
            instance = stack_set.instances.get((account_id, target_region))
            if instance is None:
                instance = Instance(stack_set, account_id, target_region, ou_id)
                stack_set.instances[(account_id, target_region)] = instance
            instance.overrides = overrides
            instance.status, instance.detailed = "OUTDATED", "PENDING"

    return _submit(stack_set, op, prepare)


def update_stack_instances(account: str, region: str, req: dict[str, Any]) -> dict[str, Any]:
    stack_set = STORE.get(account, region, req["StackSetName"])
    overrides = req.get("ParameterOverrides")
    _check_overrides(stack_set, overrides or [])
    targets = resolve_targets(stack_set, req, existing_only=True)
    for account_id, target_region, _ in targets:
        if (account_id, target_region) not in stack_set.instances:
            raise api.modeled_error("StackInstanceNotFoundException",
                                    f"Stack instance {account_id}/{target_region} not found in StackSet {stack_set.name}")
    op = Operation("UPDATE", req, [(a, r) for a, r, _ in targets])

    def prepare() -> None:
        for account_id, target_region, _ in targets:
            instance = stack_set.instances[(account_id, target_region)]
            if overrides is not None:
                # Given overrides replace those keys; an empty list clears them (API_UpdateStackInstances.html).
                merged = {p["ParameterKey"]: p for p in instance.overrides}
                merged.update({p["ParameterKey"]: p for p in overrides})
                instance.overrides = [] if overrides == [] else list(merged.values())
            instance.status, instance.detailed = "OUTDATED", "PENDING"

    return _submit(stack_set, op, prepare)


def delete_stack_instances(account: str, region: str, req: dict[str, Any]) -> dict[str, Any]:
    stack_set = STORE.get(account, region, req["StackSetName"])
    targets = [(a, r) for a, r, _ in resolve_targets(stack_set, req) if (a, r) in stack_set.instances]
    op = Operation("DELETE", req, targets)

    def prepare() -> None:
        for key in targets:
            stack_set.instances[key].detailed = "PENDING"

    return _submit(stack_set, op, prepare)


def _instance_view(stack_set: StackSet, instance: Instance, full: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"StackSetId": stack_set.id, "Region": instance.region, "Account": instance.account,
                           "StackId": instance.stack_id, "Status": instance.status,
                           "StackInstanceStatus": {"DetailedStatus": instance.detailed}, "DriftStatus": "NOT_CHECKED"}
    if instance.reason:
        out["StatusReason"] = instance.reason
    if instance.ou_id:
        out["OrganizationalUnitId"] = instance.ou_id
    if instance.last_operation:
        out["LastOperationId"] = instance.last_operation
    if full:
        out["ParameterOverrides"] = [{"ParameterKey": p["ParameterKey"], "ParameterValue": p.get("ParameterValue", "")} for p in instance.overrides]
    return out


def list_stack_instances(account: str, region: str, req: dict[str, Any]) -> dict[str, Any]:
    stack_set = STORE.get(account, region, req["StackSetName"])
    out = []
    with stack_set.lock:
        instances = list(stack_set.instances.values())
    for instance in instances:
        if req.get("StackInstanceAccount") and instance.account != req["StackInstanceAccount"]:
            continue
        if req.get("StackInstanceRegion") and instance.region != req["StackInstanceRegion"]:
            continue
        out.append(_instance_view(stack_set, instance, False))
    return {"Summaries": out}


def describe_stack_instance(account: str, region: str, req: dict[str, Any]) -> dict[str, Any]:
    stack_set = STORE.get(account, region, req["StackSetName"])
    instance = stack_set.instances.get((req["StackInstanceAccount"], req["StackInstanceRegion"]))
    if instance is None:
        raise api.modeled_error("StackInstanceNotFoundException",
                                f"Stack instance {req['StackInstanceAccount']}/{req['StackInstanceRegion']} not found in StackSet {stack_set.name}")
    return {"StackInstance": _instance_view(stack_set, instance, True)}


def _operation_view(stack_set: StackSet, op: Operation, full: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"OperationId": op.id, "Action": op.action, "Status": op.status, "CreationTimestamp": op.created}
    if op.ended:
        out["EndTimestamp"] = op.ended
    if op.reason:
        out["StatusReason"] = op.reason
    if op.preferences:
        out["OperationPreferences"] = op.preferences
    if op.status == "FAILED":
        out["StatusDetails"] = {"FailedStackInstancesCount": sum(1 for r in op.results if r["Status"] == "FAILED")}
    if full:
        out["StackSetId"] = stack_set.id
        out["RetainStacks"] = op.retain
        if op.deployment_targets:
            out["DeploymentTargets"] = op.deployment_targets
        if stack_set.permission_model == "SELF_MANAGED":
            out["AdministrationRoleARN"], out["ExecutionRoleName"] = stack_set.admin_role, stack_set.execution_role
    return out


def describe_stack_set_operation(account: str, region: str, req: dict[str, Any]) -> dict[str, Any]:
    stack_set = STORE.get(account, region, req["StackSetName"])
    op = stack_set.operations.get(req["OperationId"])
    if op is None:
        raise api.modeled_error("OperationNotFoundException", f"Operation {req['OperationId']} not found for StackSet {stack_set.name}")
    return {"StackSetOperation": _operation_view(stack_set, op, True)}


def list_stack_set_operations(account: str, region: str, req: dict[str, Any]) -> dict[str, Any]:
    stack_set = STORE.get(account, region, req["StackSetName"])
    ops = sorted(stack_set.operations.values(), key=lambda o: o.created, reverse=True)
    return {"Summaries": [_operation_view(stack_set, op, False) for op in ops]}


def list_stack_set_operation_results(account: str, region: str, req: dict[str, Any]) -> dict[str, Any]:
    stack_set = STORE.get(account, region, req["StackSetName"])
    op = stack_set.operations.get(req["OperationId"])
    if op is None:
        raise api.modeled_error("OperationNotFoundException", f"Operation {req['OperationId']} not found for StackSet {stack_set.name}")
    return {"Summaries": list(op.results)}


def delete_stack_set(account: str, region: str, req: dict[str, Any]) -> dict[str, Any]:
    stack_set = STORE.get(account, region, req["StackSetName"])
    if stack_set.running():
        raise api.modeled_error("OperationInProgressException", f"Another Operation on StackSet {stack_set.id} is in progress")
    if stack_set.instances:
        raise api.modeled_error("StackSetNotEmptyException", f"StackSet {stack_set.name} cannot be deleted while it has stack instances: delete them first")
    stack_set.status = "DELETED"
    return {}


HANDLERS: dict[str, Callable[[str, str, dict[str, Any]], dict[str, Any]]] = {
    "CreateStackSet": create_stack_set, "DescribeStackSet": describe_stack_set, "ListStackSets": list_stack_sets,
    "UpdateStackSet": update_stack_set, "DeleteStackSet": delete_stack_set, "CreateStackInstances": create_stack_instances,
    "UpdateStackInstances": update_stack_instances, "DeleteStackInstances": delete_stack_instances,
    "ListStackInstances": list_stack_instances, "DescribeStackInstance": describe_stack_instance,
    "DescribeStackSetOperation": describe_stack_set_operation, "ListStackSetOperations": list_stack_set_operations,
    "ListStackSetOperationResults": list_stack_set_operation_results,
}
