"""Stacks: create, update and delete run in a background thread, as CloudFormation runs them, with its statuses and events.

Custom resources (`Custom::*`, `AWS::CloudFormation::CustomResource`) are sent
to their ServiceToken (an SNS topic in the stack's region, or a local
function's ARN) and the stack waits for the answer PUT to a pre-signed
ResponseURL. Native `AWS::*` types go through moto's own CloudFormation models.
Sources (CloudFormation User Guide unless said otherwise):
- Request and response objects: crpg-ref-requests.html, crpg-ref-responses.html
  https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requests.html
- Replacement by a new PhysicalResourceId, then Delete of the old one in
  UPDATE_COMPLETE_CLEANUP_IN_PROGRESS; rollback by an Update with the old
  properties; a failed Create is deleted in rollback:
  https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requesttypes-update.html
  https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-custom-resources.html
- Stack status codes: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/view-stack-events.html#cfn-console-view-stack-data-resources-status-codes
- ServiceTimeout (1-3600 s, default 3600) and "the service token must be from
  the same Region as the stack; updates aren't supported":
  https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudformation-customresource.html
"""

from __future__ import annotations

import copy
import datetime
import json
import logging
import threading
import time
import uuid
from typing import Any, Callable
from urllib.parse import quote

from localcloud.cfn import template as tpl
from localcloud.cfn.template import ResolveError, TemplateError

log = logging.getLogger("localcloud")

SNS_SUBJECT = "AWS CloudFormation custom resource request"
RESPONSE_LIMIT = 4096  # crpg-ref-responses.html: the response body is at most 4096 bytes


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def is_custom(resource_type: str) -> bool:
    return resource_type.startswith("Custom::") or resource_type == "AWS::CloudFormation::CustomResource"


class Settings:
    """What the engine needs from the server: ResponseURLs, reading answers back, the default timeout."""

    response_url: Callable[[str], str] = staticmethod(lambda key: "")  # type: ignore[assignment]
    read_response: Callable[[str], bytes | None] = staticmethod(lambda key: None)  # type: ignore[assignment]
    custom_resource_timeout: float = 120.0
    poll_interval: float = 0.05


SETTINGS = Settings()


class Resource:
    def __init__(self, logical_id: str, resource_type: str):
        self.logical_id = logical_id
        self.type = resource_type
        self.status: str | None = None
        self.reason: str | None = None
        self.physical_id: str | None = None
        self.properties: Any = None  # as last applied (custom: as sent, scalars as strings)
        self.data: dict[str, Any] = {}
        self.model: Any = None
        self.updated = now()
        self.definition: dict[str, Any] = {}

    def snapshot(self) -> dict[str, Any]:
        return {"physical_id": self.physical_id, "properties": copy.deepcopy(self.properties), "data": dict(self.data),
                "model": self.model, "definition": self.definition}



class Stack:
    def __init__(self, account: str, region: str, name: str, stack_id: str | None = None):
        self.lock = threading.RLock()
        self.account, self.region, self.name = account, region, name
        self.id = stack_id or f"arn:aws:cloudformation:{region}:{account}:stack/{name}/{uuid.uuid4()}"
        self.status = "CREATE_IN_PROGRESS"
        self.reason: str | None = None
        self._last_tick: datetime.datetime | None = None
        self.created = self.tick()
        self.updated: datetime.datetime | None = None
        self.deleted: datetime.datetime | None = None
        self.template_body = ""
        self.template: dict[str, Any] = {"Resources": {}}
        self.parameters: dict[str, Any] = {}
        self.tags: list[dict[str, str]] = []
        self.capabilities: list[str] = []
        self.notification_arns: list[str] = []
        self.disable_rollback = False
        self.on_failure = "ROLLBACK"
        self.resources: dict[str, Resource] = {}
        self.events: list[dict[str, Any]] = []
        self.outputs: list[dict[str, Any]] = []
        self.client_token: str | None = None
        self.idle = threading.Event()
        self.idle.set()
        self.delete_pending = False
        self.stack_set_id: str | None = None

    # -- views --------------------------------------------------------------------------------

    def tick(self) -> datetime.datetime:
        """The time of the next event: strictly after the last one at the API's millisecond precision, so
        "events newer than LastUpdatedTime" (the current operation's) is exact."""
        with self.lock:
            stamp = now().replace(microsecond=now().microsecond // 1000 * 1000)
            if self._last_tick is not None and stamp <= self._last_tick:
                stamp = self._last_tick + datetime.timedelta(milliseconds=1)
            self._last_tick = stamp
            return stamp

    def event(self, logical: str, physical: str | None, resource_type: str, status: str, reason: str | None = None,
              properties: Any = None, stamp: datetime.datetime | None = None) -> None:
        with self.lock:
            entry = {
                "StackId": self.id, "EventId": f"{logical}-{uuid.uuid4()}" if logical != self.name else str(uuid.uuid4()),
                "StackName": self.name, "LogicalResourceId": logical, "PhysicalResourceId": physical or "",
                "ResourceType": resource_type, "Timestamp": stamp or self.tick(), "ResourceStatus": status,
            }
            if reason:
                entry["ResourceStatusReason"] = reason
            if properties is not None:
                entry["ResourceProperties"] = json.dumps(properties)
            if self.client_token:
                entry["ClientRequestToken"] = self.client_token
            self.events.append(entry)

    def set_status(self, status: str, reason: str | None = None) -> None:
        with self.lock:
            stamp = self.tick()
            self.status, self.reason = status, reason
            # LastUpdatedTime: when the current update (or create rollback) began; its events are newer.
            if status in ("UPDATE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"):
                self.updated = stamp
            if status == "DELETE_COMPLETE":
                self.deleted = stamp
            self.event(self.name, self.id, "AWS::CloudFormation::Stack", status, reason, stamp=stamp)

    def set_resource(self, res: Resource, status: str, reason: str | None = None, physical: str | None | bool = False,
                     event_physical: str | None | bool = False, properties: Any = None) -> None:
        """A resource's status change and its event (physical: False keeps it; event_physical overrides the event's id)."""
        with self.lock:
            if physical is not False:
                res.physical_id = physical  # type: ignore[assignment]
            res.status, res.reason, res.updated = status, reason, now()
        shown = res.physical_id if event_physical is False else event_physical
        self.event(res.logical_id, shown, res.type, status, reason, properties)  # type: ignore[arg-type]

    def pseudo(self) -> dict[str, Any]:
        return {"AWS::AccountId": self.account, "AWS::Region": self.region, "AWS::StackName": self.name, "AWS::StackId": self.id,
                "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com", "AWS::NotificationARNs": list(self.notification_arns)}

    def context(self, template: dict[str, Any] | None = None, parameters: dict[str, Any] | None = None) -> tpl.Context:
        return tpl.Context(template or self.template, self.parameters if parameters is None else parameters, self.pseudo(),
                           ref=self._ref, getatt=self._getatt)

    def _ref(self, logical: str) -> Any:
        res = self.resources.get(logical)
        if res is None or res.physical_id is None:
            raise ResolveError(f"Resource {logical} has no physical id yet (it was not created)")
        return res.physical_id

    def _getatt(self, logical: str, attribute: str) -> Any:
        res = self.resources.get(logical)
        if res is None or res.physical_id is None:
            raise ResolveError(f"Resource {logical} has no attributes yet (it was not created)")
        if is_custom(res.type):
            if attribute not in res.data:
                raise ResolveError(f"CustomResource attribute error: Vendor response doesn't contain {attribute} key in object {self.id}|{logical}|{res.physical_id}")
            return res.data[attribute]
        if res.model is None:
            raise ResolveError(f"Template error: resource {logical} of type {res.type} has no attribute {attribute}")
        try:
            return res.model.get_cfn_attribute(attribute)
        except Exception:
            raise ResolveError(f"Template error: resource {logical} does not support attribute type {attribute} in Fn::GetAtt") from None

    def resolve_outputs(self) -> None:
        ctx = self.context()
        outputs = []
        for key, decl in (self.template.get("Outputs") or {}).items():
            if decl.get("Condition") and not ctx.condition(decl["Condition"]):
                continue
            try:
                value = ctx.resolve(decl.get("Value"))
            except (TemplateError, ResolveError) as err:
                value = f"(unresolved: {err})"
            entry = {"OutputKey": key, "OutputValue": ",".join(map(str, value)) if isinstance(value, list) else tpl._scalar(value)}
            if decl.get("Description"):
                entry["Description"] = decl["Description"]
            if isinstance(decl.get("Export"), dict):
                entry["ExportName"] = tpl._scalar(ctx.resolve(decl["Export"].get("Name")))
            outputs.append(entry)
        self.outputs = outputs


class Failure(Exception):
    """A resource operation that failed; the message is the resource's status reason."""

    def __init__(self, reason: str, physical_id: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.physical_id = physical_id


# -- providers -------------------------------------------------------------------------------------

def send_custom(stack: Stack, res: Resource, request_type: str, properties: dict[str, Any], physical_id: str | None,
                old_properties: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """Send a custom resource request to its ServiceToken and wait for the answer: (physical id, Data) or Failure."""
    token = properties.get("ServiceToken")
    if not isinstance(token, str) or not token:
        raise Failure("ServiceToken is required: the ARN of an SNS topic (or a Lambda function) in the stack's region")
    parts = token.split(":")
    if len(parts) < 6 or parts[0] != "arn" or parts[2] not in ("sns", "lambda"):
        raise Failure(f"Invalid service token {token}: give an SNS topic ARN or a Lambda function ARN")
    if parts[3] != stack.region:
        raise Failure(f"Invalid service token {token}: the service token must be in the stack's region ({stack.region})")
    request_id = str(uuid.uuid4())
    key = f"{quote(stack.id, safe='')}|{res.logical_id}|{request_id}"
    request: dict[str, Any] = {
        "RequestType": request_type, "ServiceToken": token, "ResponseURL": SETTINGS.response_url(key), "StackId": stack.id,
        "RequestId": request_id, "LogicalResourceId": res.logical_id, "ResourceType": res.type, "ResourceProperties": properties,
    }
    if request_type != "Create":
        request["PhysicalResourceId"] = physical_id
    if request_type == "Update":
        request["OldResourceProperties"] = old_properties
    timeout = SETTINGS.custom_resource_timeout
    if "ServiceTimeout" in properties:
        try:
            timeout = min(float(properties["ServiceTimeout"]), 3600.0)
        except ValueError:
            raise Failure(f"ServiceTimeout {properties['ServiceTimeout']!r} must be a whole number of seconds, 1-3600") from None
    if parts[2] == "sns":
        from moto.sns.exceptions import SNSNotFoundError
        from moto.sns.models import sns_backends

        try:
            sns_backends[parts[4]][parts[3]].publish(message=json.dumps(request), arn=token, subject=SNS_SUBJECT)
        except SNSNotFoundError:
            raise Failure(f"Failed to publish the custom resource request to {token}: the topic does not exist") from None
    else:
        from localcloud.functions import REGISTRY

        function = REGISTRY.get(token)
        if function is None:
            raise Failure(f"Failed to invoke {token}: no such function in the local cloud")
        function.invoke_async(request)
    log.info("cloudformation %s: %s %s %s sent to %s", stack.name, request_type, res.logical_id, request_id, token)
    return _await_response(stack, res, request, key, timeout)


def _await_response(stack: Stack, res: Resource, request: dict[str, Any], key: str, timeout: float) -> tuple[str, dict[str, Any]]:
    deadline = time.monotonic() + timeout
    body = None
    while time.monotonic() < deadline:
        body = SETTINGS.read_response(key)
        if body is not None:
            break
        time.sleep(SETTINGS.poll_interval)
    request_id = request["RequestId"]
    if body is None:
        raise Failure(f"CloudFormation did not receive a response from your Custom Resource. Please check your logs for requestId [{request_id}].")
    if len(body) > RESPONSE_LIMIT:
        raise Failure("Response object is too long.")
    try:
        answer = json.loads(body)
    except ValueError:
        raise Failure(f"Invalid response object: the body PUT to the ResponseURL is not JSON (RequestId: {request_id})") from None
    if not isinstance(answer, dict):
        raise Failure(f"Invalid response object: the body must be a JSON object (RequestId: {request_id})")
    status = answer.get("Status")
    physical = answer.get("PhysicalResourceId")
    if status not in ("SUCCESS", "FAILED"):
        raise Failure(f"Invalid response object: Status must be SUCCESS or FAILED, not {status!r} (RequestId: {request_id})")
    for field in ("StackId", "RequestId", "LogicalResourceId"):
        if answer.get(field) != request[field]:
            raise Failure(f"Invalid response object: {field} does not match the request (RequestId: {request_id})", physical)
    if status == "FAILED":
        raise Failure(f"Received response status [FAILED] from custom resource. Message returned: {answer.get('Reason', '')} (RequestId: {request_id})",
                      physical if isinstance(physical, str) and physical else None)
    if not isinstance(physical, str) or not physical:
        raise Failure(f"Invalid PhysicalResourceId (RequestId: {request_id})")
    data = answer.get("Data") or {}
    if not isinstance(data, dict):
        raise Failure(f"Invalid response object: Data must be a JSON object (RequestId: {request_id})", physical)
    return physical, data


class TopicPolicy:
    """AWS::SNS::TopicPolicy, which moto's CloudFormation lacks: sets the policy of each topic; deleting it puts back
    what the topics had (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sns-topicpolicy.html)."""

    def __init__(self, name: str, previous: dict[str, str]):
        self.physical_resource_id = name
        self.previous = previous

    @staticmethod
    def _topics(properties: dict[str, Any], account: str, region: str) -> list[Any]:
        from moto.sns.exceptions import SNSNotFoundError
        from moto.sns.models import sns_backends

        topics = properties.get("Topics")
        if not isinstance(topics, list) or not topics or not isinstance(properties.get("PolicyDocument"), dict):
            raise Failure("Properties validation failed: Topics (a list of topic ARNs) and PolicyDocument (an object) are required")
        found = []
        for arn in topics:
            parts = str(arn).split(":")
            try:
                found.append(sns_backends[parts[4]][parts[3]].get_topic(str(arn)) if len(parts) == 6 else None)
            except SNSNotFoundError:
                found.append(None)
            if found[-1] is None:
                raise Failure(f"Resource handler returned message: \"Topic does not exist: {arn}\"")
        return found

    @classmethod
    def create(cls, name: str, properties: dict[str, Any], account: str, region: str) -> "TopicPolicy":
        topics = cls._topics(properties, account, region)
        previous = {topic.arn: topic.policy for topic in topics}
        for topic in topics:
            topic.policy = json.dumps(properties["PolicyDocument"])
        return cls(name, previous)

    def update(self, properties: dict[str, Any], account: str, region: str) -> "TopicPolicy":
        self.delete(account, region)
        return TopicPolicy.create(self.physical_resource_id, properties, account, region)

    def delete(self, account: str, region: str) -> None:
        from moto.sns.models import sns_backends

        for arn, policy in self.previous.items():
            parts = arn.split(":")
            topic = sns_backends[parts[4]][parts[3]].topics.get(arn)
            if topic is not None:
                topic.policy = policy

    def get_cfn_attribute(self, attribute: str) -> Any:
        if attribute == "Id":
            return self.physical_resource_id
        raise Failure(f"Template error: resource type AWS::SNS::TopicPolicy has no attribute {attribute}")


def _native_class(resource_type: str) -> Any:
    from moto.cloudformation.parsing import NULL_MODELS, get_model_map

    if resource_type in NULL_MODELS or resource_type in LOCAL_MODELS:
        return None
    cls = get_model_map().get(resource_type)
    if cls is None:
        raise Failure(f"Resource type {resource_type} is not implemented by the local cloud (moto's CloudFormation has no model for it)")
    return cls


def create_native(stack: Stack, res: Resource, properties: dict[str, Any]) -> tuple[str, Any]:
    from moto.cloudformation.parsing import generate_resource_name

    if res.type in LOCAL_MODELS:
        from moto.cloudformation.parsing import generate_resource_name as local_name

        model = LOCAL_MODELS[res.type].create(local_name(res.type, stack.name, res.logical_id), properties, stack.account, stack.region)
        return model.physical_resource_id, model
    cls = _native_class(res.type)
    if cls is None:  # WaitConditionHandle and the like: nothing to make
        return f"https://cloudformation-waitcondition-{stack.region}.s3.amazonaws.com/{quote(stack.id, safe='')}/{res.logical_id}", None
    name_property = cls.cloudformation_name_type()
    name = properties.get(name_property) if name_property else None
    name = name or generate_resource_name(res.type, stack.name, res.logical_id)
    try:
        model = cls.create_from_cloudformation_json(name, {"Type": res.type, "Properties": properties}, stack.account, stack.region,
                                                    LogicalId=res.logical_id, StackId=stack.id, ResourceType=res.type)
    except Exception as err:
        raise Failure(f"Resource handler returned message: \"{err}\"") from None
    return str(model.physical_resource_id), model


def update_native(stack: Stack, res: Resource, properties: dict[str, Any]) -> tuple[str, Any]:
    if res.type in LOCAL_MODELS:
        model = res.model.update(properties, stack.account, stack.region)
        return model.physical_resource_id, model
    cls = _native_class(res.type)
    if cls is None:
        return str(res.physical_id), None
    if hasattr(cls.update_from_cloudformation_json, "__isabstractmethod__"):
        raise Failure(f"Updating a {res.type} is not implemented by the local cloud: delete and recreate the stack instead")
    name_property = cls.cloudformation_name_type()
    name = properties.get(name_property) if name_property else None
    try:
        model = cls.update_from_cloudformation_json(original_resource=res.model, new_resource_name=name or res.physical_id,
                                                    cloudformation_json={"Type": res.type, "Properties": properties},
                                                    account_id=stack.account, region_name=stack.region)
    except Exception as err:
        raise Failure(f"Resource handler returned message: \"{err}\"") from None
    return str(model.physical_resource_id), model


def delete_native(stack: Stack, resource_type: str, physical_id: str | None, model: Any, properties: Any) -> None:
    if resource_type in LOCAL_MODELS:
        if model is not None:
            model.delete(stack.account, stack.region)
        return
    cls = _native_class(resource_type)
    if cls is None or physical_id is None:
        return
    try:
        try:
            model.delete(stack.account, stack.region)
        except (TypeError, AttributeError):
            if not hasattr(cls.delete_from_cloudformation_json, "__isabstractmethod__"):
                cls.delete_from_cloudformation_json(physical_id, {"Type": resource_type, "Properties": properties or {}}, stack.account, stack.region)
    except Exception as err:
        raise Failure(f"Resource handler returned message: \"{err}\"") from None


# Native types moto's CloudFormation has no model for, that the repository's templates use.
LOCAL_MODELS: dict[str, Any] = {"AWS::SNS::TopicPolicy": TopicPolicy}


def apply_create(stack: Stack, res: Resource, properties: Any) -> None:
    if is_custom(res.type):
        physical, data = send_custom(stack, res, "Create", properties, None)
        res.physical_id, res.data, res.properties = physical, data, properties
    else:
        physical, model = create_native(stack, res, properties)
        res.physical_id, res.model, res.properties = physical, model, properties


def apply_update(stack: Stack, res: Resource, properties: Any, old_properties: Any) -> None:
    if is_custom(res.type):
        physical, data = send_custom(stack, res, "Update", properties, res.physical_id, old_properties)
        res.physical_id, res.data, res.properties = physical, data, properties
    else:
        physical, model = update_native(stack, res, properties)
        res.physical_id, res.model, res.properties = physical, model, properties


def apply_delete(stack: Stack, resource_type: str, logical: str, physical_id: str | None, properties: Any, model: Any) -> None:
    if is_custom(resource_type):
        if physical_id is None:
            return
        probe = Resource(logical, resource_type)
        send_custom(stack, probe, "Delete", properties or {}, physical_id)
    else:
        delete_native(stack, resource_type, physical_id, model, properties)


def resolved_properties(stack: Stack, ctx: tpl.Context, res_type: str, definition: dict[str, Any]) -> Any:
    try:
        props = ctx.resolve(definition.get("Properties") or {})
    except (TemplateError, ResolveError) as err:
        raise Failure(str(err)) from None
    return tpl.stringify(props) if is_custom(res_type) else props


# -- operations --------------------------------------------------------------------------------------

def start(stack: Stack, work: Callable[[], None]) -> None:
    def run() -> None:
        try:
            work()
        except Exception:  # never leave a stack IN_PROGRESS without a reason
            log.exception("cloudformation: operation on %s failed", stack.name)
            stack.set_status(_failed_status(stack.status), "Internal failure of the local cloud's CloudFormation (see its log)")
        finally:
            stack.idle.set()

    stack.idle.clear()
    threading.Thread(target=run, daemon=True, name=f"cfn-{stack.name}").start()


def _failed_status(status: str) -> str:
    for prefix, failed in (("UPDATE_ROLLBACK", "UPDATE_ROLLBACK_FAILED"), ("UPDATE", "UPDATE_ROLLBACK_FAILED"),
                           ("ROLLBACK", "ROLLBACK_FAILED"), ("CREATE", "CREATE_FAILED"), ("DELETE", "DELETE_FAILED")):
        if status.startswith(prefix):
            return failed
    return status


def run_create(stack: Stack) -> None:
    stack.set_status("CREATE_IN_PROGRESS", "User Initiated")
    ctx = stack.context()
    try:
        names = tpl.order(stack.template, ctx.active)
    except TemplateError as err:
        stack.set_status("CREATE_FAILED" if stack.on_failure == "DO_NOTHING" else "ROLLBACK_COMPLETE", str(err))
        return
    attempted: list[Resource] = []
    failed: Resource | None = None
    for logical in names:
        definition = stack.template["Resources"][logical]
        res = Resource(logical, definition["Type"])
        res.definition = definition
        with stack.lock:
            stack.resources[logical] = res
        stack.set_resource(res, "CREATE_IN_PROGRESS")
        attempted.append(res)
        try:
            properties = resolved_properties(stack, stack.context(), res.type, definition)
            res.properties = properties
            apply_create(stack, res, properties)
        except Failure as err:
            stack.set_resource(res, "CREATE_FAILED", err.reason, physical=err.physical_id)
            failed = res
            break
        stack.set_resource(res, "CREATE_COMPLETE")
    if failed is None:
        stack.resolve_outputs()
        stack.set_status("CREATE_COMPLETE")
        return
    reason = f"The following resource(s) failed to create: [{failed.logical_id}]. "
    if stack.on_failure == "DO_NOTHING":
        stack.set_status("CREATE_FAILED", reason)
        return
    stack.set_status("ROLLBACK_IN_PROGRESS", reason + "Rollback requested by user.")
    ok = _delete_resources(stack, list(reversed(attempted)))
    if not ok:
        stack.set_status("ROLLBACK_FAILED", "The following resource(s) failed to delete: "
                         f"[{', '.join(r.logical_id for r in attempted if r.status == 'DELETE_FAILED')}]. ")
        return
    stack.set_status("ROLLBACK_COMPLETE")
    if stack.on_failure == "DELETE":
        run_delete(stack, [])


def _delete_resources(stack: Stack, resources: list[Resource]) -> bool:
    """Delete in the given order; True when every one went. A failure stops at once."""
    for res in resources:
        if res.status in ("DELETE_COMPLETE", "DELETE_SKIPPED"):
            continue
        if res.physical_id is None and res.status in ("CREATE_FAILED", "CREATE_IN_PROGRESS", None):
            stack.set_resource(res, "DELETE_COMPLETE")  # never made: nothing to delete
            continue
        stack.set_resource(res, "DELETE_IN_PROGRESS")
        try:
            apply_delete(stack, res.type, res.logical_id, res.physical_id, res.properties, res.model)
        except Failure as err:
            stack.set_resource(res, "DELETE_FAILED", err.reason)
            return False
        stack.set_resource(res, "DELETE_COMPLETE")
    return True


def run_delete(stack: Stack, retain: list[str], started: bool = False) -> None:
    """Deletes the stack; `started`: DeleteStack already set DELETE_IN_PROGRESS."""
    if not started:
        stack.set_status("DELETE_IN_PROGRESS", "User Initiated")
    try:
        names = [n for n in tpl.order(stack.template, lambda n: n in stack.resources)]
    except TemplateError:
        names = list(stack.resources)
    names += [n for n in stack.resources if n not in names]
    failed = []
    for logical in reversed(names):
        res = stack.resources[logical]
        if res.status in ("DELETE_COMPLETE", "DELETE_SKIPPED"):
            continue
        policy = (res.definition or {}).get("DeletionPolicy")
        if logical in retain or policy in ("Retain", "RetainExceptOnCreate"):
            stack.set_resource(res, "DELETE_SKIPPED")
            continue
        if res.physical_id is None:
            stack.set_resource(res, "DELETE_COMPLETE")
            continue
        stack.set_resource(res, "DELETE_IN_PROGRESS")
        try:
            apply_delete(stack, res.type, res.logical_id, res.physical_id, res.properties, res.model)
        except Failure as err:
            stack.set_resource(res, "DELETE_FAILED", err.reason)
            failed.append(logical)
            continue
        stack.set_resource(res, "DELETE_COMPLETE")
    if failed:
        stack.set_status("DELETE_FAILED", f"The following resource(s) failed to delete: [{', '.join(failed)}]. ")
        return
    stack.set_status("DELETE_COMPLETE")


def run_update(stack: Stack, new_template: dict[str, Any], new_body: str, new_parameters: dict[str, Any],
               started: bool = False) -> None:
    """Updates the stack; `started`: UpdateStack already set UPDATE_IN_PROGRESS."""
    old = {"template": stack.template, "body": stack.template_body, "parameters": stack.parameters, "outputs": stack.outputs}
    saved = {logical: res.snapshot() for logical, res in stack.resources.items()}
    with stack.lock:
        stack.template, stack.template_body, stack.parameters = new_template, new_body, new_parameters
    if not started:
        stack.set_status("UPDATE_IN_PROGRESS", "User Initiated")
    ctx = stack.context()
    try:
        names = tpl.order(new_template, ctx.active)
    except TemplateError as err:
        _update_rollback(stack, old, saved, [], str(err))
        return
    touched: list[tuple[str, str, Any]] = []  # (logical, "created" | "updated", the properties sent)
    replaced: list[tuple[Resource, dict[str, Any]]] = []  # (resource, its state before the replacement)
    failure: str | None = None
    for logical in names:
        definition = new_template["Resources"][logical]
        res = stack.resources.get(logical)
        if res is None or res.status in ("DELETE_COMPLETE",):
            res = Resource(logical, definition["Type"])
            res.definition = definition
            with stack.lock:
                stack.resources[logical] = res
            stack.set_resource(res, "CREATE_IN_PROGRESS")
            touched.append((logical, "created", None))
            try:
                properties = resolved_properties(stack, stack.context(), res.type, definition)
                res.properties = properties
                apply_create(stack, res, properties)
            except Failure as err:
                stack.set_resource(res, "CREATE_FAILED", err.reason, physical=err.physical_id)
                failure = f"The following resource(s) failed to create: [{logical}]. "
                break
            stack.set_resource(res, "CREATE_COMPLETE")
            continue
        if res.type != definition["Type"]:
            stack.set_resource(res, "UPDATE_FAILED", f"Update of resource type is not permitted. The new template modifies resource type of the following resources: [{logical}]")
            failure = f"The following resource(s) failed to update: [{logical}]. "
            break
        try:
            properties = resolved_properties(stack, stack.context(), res.type, definition)
        except Failure as err:
            stack.set_resource(res, "UPDATE_FAILED", err.reason)
            failure = f"The following resource(s) failed to update: [{logical}]. "
            break
        res.definition = definition
        if properties == res.properties:
            continue
        if is_custom(res.type) and (res.properties or {}).get("ServiceToken") != properties.get("ServiceToken"):
            stack.set_resource(res, "UPDATE_FAILED", "Modifying service token is not allowed.")
            failure = f"The following resource(s) failed to update: [{logical}]. "
            break
        before = res.physical_id
        stack.set_resource(res, "UPDATE_IN_PROGRESS", properties=properties if is_custom(res.type) else None)
        touched.append((logical, "updated", properties))
        try:
            apply_update(stack, res, properties, saved[logical]["properties"])
        except Failure as err:
            stack.set_resource(res, "UPDATE_FAILED", err.reason)
            failure = f"The following resource(s) failed to update: [{logical}]. "
            break
        if res.physical_id != before:
            replaced.append((res, saved[logical]))
        stack.set_resource(res, "UPDATE_COMPLETE")
    if failure is not None:
        _update_rollback(stack, old, saved, touched, failure)
        return
    stack.set_status("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    for res, before in replaced:
        _cleanup_delete(stack, res, before["physical_id"], before["properties"], before["model"])
    removed = [stack.resources[n] for n in reversed(list(stack.resources)) if n not in names and stack.resources[n].status != "DELETE_COMPLETE"]
    for res in removed:
        _remove(stack, res)
    stack.resolve_outputs()
    stack.set_status("UPDATE_COMPLETE")


def _cleanup_delete(stack: Stack, res: Resource, physical_id: str | None, properties: Any, model: Any) -> None:
    """Delete a replaced physical id: the resource keeps showing its new id; only the events name the old one.

    A failed delete in a cleanup phase does not fail the stack (the old resource is left behind)."""
    stack.event(res.logical_id, physical_id, res.type, "DELETE_IN_PROGRESS")
    try:
        apply_delete(stack, res.type, res.logical_id, physical_id, properties, model)
    except Failure as err:
        stack.event(res.logical_id, physical_id, res.type, "DELETE_FAILED", err.reason)
        return
    stack.event(res.logical_id, physical_id, res.type, "DELETE_COMPLETE")


def _remove(stack: Stack, res: Resource) -> None:
    policy = (res.definition or {}).get("DeletionPolicy")
    if policy in ("Retain", "RetainExceptOnCreate"):
        stack.set_resource(res, "DELETE_SKIPPED")
    elif res.physical_id is None:
        stack.set_resource(res, "DELETE_COMPLETE")
    else:
        stack.set_resource(res, "DELETE_IN_PROGRESS")
        try:
            apply_delete(stack, res.type, res.logical_id, res.physical_id, res.properties, res.model)
            stack.set_resource(res, "DELETE_COMPLETE")
        except Failure as err:
            stack.set_resource(res, "DELETE_FAILED", err.reason)
    with stack.lock:
        if stack.resources.get(res.logical_id) is res and res.status != "DELETE_FAILED":
            del stack.resources[res.logical_id]


def _update_rollback(stack: Stack, old: dict[str, Any], saved: dict[str, dict[str, Any]], touched: list[tuple[str, str, Any]], reason: str) -> None:
    with stack.lock:
        stack.template, stack.template_body, stack.parameters = old["template"], old["body"], old["parameters"]
    stack.set_status("UPDATE_ROLLBACK_IN_PROGRESS", reason)
    created_during: list[tuple[Resource, str, Any, Any]] = []  # physical ids made by the update, to delete in cleanup
    for logical, kind, new_properties in reversed(touched):
        res = stack.resources[logical]
        if kind == "created":
            continue
        before = saved[logical]
        rolled_from = res.physical_id
        stack.set_resource(res, "UPDATE_IN_PROGRESS", properties=before["properties"] if is_custom(res.type) else None)
        try:
            if is_custom(res.type):
                physical, data = send_custom(stack, res, "Update", before["properties"], res.physical_id, new_properties)
                res.physical_id, res.data, res.properties = physical, data, before["properties"]
            else:
                res.physical_id, res.model = update_native(stack, res, before["properties"])
                res.properties = before["properties"]
        except Failure as err:
            stack.set_resource(res, "UPDATE_FAILED", err.reason)
            stack.set_status("UPDATE_ROLLBACK_FAILED", f"The following resource(s) failed to update: [{logical}]. ")
            return
        if rolled_from not in (res.physical_id, before["physical_id"]):
            created_during.append((res, str(rolled_from), new_properties, None))
        stack.set_resource(res, "UPDATE_COMPLETE")
    stack.set_status("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
    for res, physical, properties, model in created_during:
        _cleanup_delete(stack, res, physical, properties, model)
    for logical, kind, _ in reversed(touched):
        if kind == "created":
            _remove(stack, stack.resources[logical])
    stack.outputs = old["outputs"]
    stack.set_status("UPDATE_ROLLBACK_COMPLETE")
