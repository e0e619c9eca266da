"""Lambda functions in the local cloud: a real program run as one warm process under a Lambda Runtime API.

A function is registered with a command line (`POST /_localcloud/functions`);
the local cloud serves the Runtime API for it on its own loopback port and
starts the program with the variables Lambda sets, so a runtime client (the
`chatops` binary, or any other) runs unchanged. Sources:
- Runtime API (endpoints, headers):
  https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
- Environment variables Lambda sets (AWS_LAMBDA_RUNTIME_API, AWS_REGION, ...):
  https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
- Asynchronous invocation (SNS invokes a function asynchronously; a function
  error is retried twice, one then two minutes apart; then the event goes to
  the dead-letter queue / on-failure destination with an invocation record):
  https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html and
  https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
- SNS event shape: https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html
"""

from __future__ import annotations

import collections
import datetime
import json
import logging
import os
import select
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

log = logging.getLogger("localcloud")

RUNTIME_PREFIX = "/2018-06-01/runtime"
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
LOG_DIR = os.path.join(tempfile.gettempdir(), f"localcloud-functions-{os.getpid()}")


class SpecError(ValueError):
    """A function spec that cannot be used, with what is wrong in it."""


class Invocation:
    def __init__(self, event: Any, timeout: float, function_arn: str):
        self.id = str(uuid.uuid4())
        self.event = event
        self.deadline = time.time() + timeout
        self.function_arn = function_arn
        self.done = threading.Event()
        self.outcome: str | None = None  # "response" | "error"
        self.body: bytes = b""


class Function:
    """One function: its Runtime API server, its warm process, its async queue and its failures."""

    def __init__(self, spec: dict[str, Any], account: str, default_region: str):
        self.name = spec["name"]
        self.command = list(spec["command"])
        self.env = dict(spec.get("env") or {})
        self.timeout = float(spec.get("timeout", 30))
        self.account = account
        self.region = spec.get("region") or default_region
        self.arn = f"arn:aws:lambda:{self.region}:{self.account}:function:{self.name}"
        self.retries = int(spec.get("maximum_retry_attempts", 2))
        # Lambda waits one minute, then two (see the module doc); tests shorten this.
        self.retry_delays = [float(d) for d in spec.get("retry_delays", [60.0, 120.0])]
        os.makedirs(LOG_DIR, exist_ok=True)
        self.log_path = os.path.join(LOG_DIR, f"{self.name}.log")
        open(self.log_path, "ab").close()
        self._lock = threading.Condition()
        self._pending: collections.deque[Invocation] = collections.deque()
        self._running: dict[str, Invocation] = {}
        self._process: subprocess.Popen[bytes] | None = None
        self._closed = False
        self.init_error: str | None = None
        self.invocations: list[dict[str, Any]] = []
        self.failures: list[dict[str, Any]] = []
        self._async: collections.deque[tuple[dict[str, Any], int, float]] = collections.deque()  # (item, attempts, due)
        self._async_ready = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self.runtime_api = f"127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
        threading.Thread(target=self._async_worker, daemon=True, name=f"lambda-async-{self.name}").start()
        self._start_process()

    # -- the process ------------------------------------------------------------------------

    def _start_process(self) -> None:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **{k: str(v) for k, v in self.env.items()}}
        # Reserved variables Lambda sets itself (configuration-envvars.html); the spec cannot override them.
        env.update(
            {
                "AWS_LAMBDA_RUNTIME_API": self.runtime_api,
                "AWS_LAMBDA_FUNCTION_NAME": self.name,
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.name}",
                "AWS_LAMBDA_LOG_STREAM_NAME": f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}",
                "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
                "AWS_REGION": self.region,
                "AWS_DEFAULT_REGION": self.region,
                "AWS_EXECUTION_ENV": "AWS_Lambda_provided.al2023",
                "LAMBDA_TASK_ROOT": os.path.dirname(os.path.abspath(self.command[0])),
                "LAMBDA_RUNTIME_DIR": os.path.dirname(os.path.abspath(self.command[0])),
                "_HANDLER": "bootstrap",
                "TZ": ":UTC",
            }
        )
        self.init_error = None
        logfile = open(self.log_path, "ab")
        try:
            self._process = subprocess.Popen(self.command, env=env, stdin=subprocess.DEVNULL, stdout=logfile, stderr=subprocess.STDOUT)
        finally:
            logfile.close()

    def _ensure_process(self) -> None:
        if self._closed:
            return
        if self._process is None or self._process.poll() is not None:
            self._start_process()

    def _kill_process(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    def close(self) -> None:
        self._closed = True
        with self._lock:
            self._lock.notify_all()
        with self._async_ready:
            self._async_ready.notify_all()
        self._kill_process()
        self._server.shutdown()
        self._server.server_close()

    # -- invoking -----------------------------------------------------------------------------

    def invoke(self, event: Any) -> tuple[str, bytes]:
        """A synchronous invocation: ("response" | "error", body). Timeouts and crashes are errors, as in Lambda."""
        with self._lock:
            self._ensure_process()
            invocation = Invocation(event, self.timeout, self.arn)
            self._pending.append(invocation)
            self._lock.notify_all()
        started = time.time()
        while not invocation.done.wait(0.1):
            now = time.time()
            if now >= invocation.deadline:
                # Lambda stops the environment at the timeout; the next invocation starts a new one.
                self._fail(invocation, "Sandbox.Timedout", f"Task timed out after {self.timeout:.2f} seconds")
                self._kill_process()
            elif self.init_error is not None:
                self._fail(invocation, "Runtime.InitError", self.init_error)
                self._kill_process()
            elif self._process is None or self._process.poll() is not None:
                code = None if self._process is None else self._process.returncode
                self._fail(invocation, "Runtime.ExitError", f"Runtime exited with error: exit status {code}")
            elif self._closed:
                self._fail(invocation, "Runtime.Unavailable", "the function was removed")
        assert invocation.outcome is not None
        self.invocations.append(
            {
                "request_id": invocation.id,
                "outcome": invocation.outcome,
                "duration_ms": round((time.time() - started) * 1000),
                "time": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            }
        )
        del self.invocations[:-200]
        return invocation.outcome, invocation.body

    def _fail(self, invocation: Invocation, error_type: str, message: str) -> None:
        with self._lock:
            if invocation.done.is_set():
                return
            if invocation in self._pending:
                self._pending.remove(invocation)
            self._running.pop(invocation.id, None)
            invocation.outcome = "error"
            invocation.body = json.dumps({"errorType": error_type, "errorMessage": message}).encode()
            invocation.done.set()

    def invoke_async(self, event: Any) -> str:
        """Queue an asynchronous invocation (as SNS does); retried on error, then recorded as failed."""
        request_id = str(uuid.uuid4())
        with self._async_ready:
            self._async.append(({"request_id": request_id, "event": event}, 0, 0.0))
            self._async_ready.notify_all()
        return request_id

    def _next_async(self) -> tuple[dict[str, Any], int] | None:
        """The first queued event that is due; a retry waits its delay without holding up other events."""
        with self._async_ready:
            while not self._closed:
                now = time.monotonic()
                due = next((entry for entry in self._async if entry[2] <= now), None)
                if due is not None:
                    self._async.remove(due)
                    return due[0], due[1]
                wake = min((entry[2] for entry in self._async), default=now + 0.5)
                self._async_ready.wait(max(0.01, min(wake - now, 0.5)))
        return None

    def _async_worker(self) -> None:
        while True:
            picked = self._next_async()
            if picked is None:
                return
            item, attempts = picked
            outcome, body = self.invoke(item["event"])
            attempts += 1
            if outcome == "response":
                continue
            if attempts > self.retries or self._closed:
                self._record_failure(item, attempts, body)
                continue
            delay = self.retry_delays[min(attempts - 1, len(self.retry_delays) - 1)] if self.retry_delays else 0.0
            with self._async_ready:
                self._async.append((item, attempts, time.monotonic() + delay))
                self._async_ready.notify_all()

    def _record_failure(self, item: dict[str, Any], attempts: int, body: bytes) -> None:
        # The invocation record Lambda sends to an on-failure destination (invocation-async-retain-records.html).
        try:
            payload: Any = json.loads(body)
        except ValueError:
            payload = body.decode(errors="replace")
        error_type = payload.get("errorType") if isinstance(payload, dict) else None
        self.failures.append(
            {
                "version": "1.0",
                "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                "requestContext": {
                    "requestId": item["request_id"],
                    "functionArn": f"{self.arn}:$LATEST",
                    "condition": "RetriesExhausted",
                    "approximateInvokeCount": attempts,
                },
                "requestPayload": item["event"],
                "responseContext": {
                    "statusCode": 200,
                    "executedVersion": "$LATEST",
                    "functionError": "Unhandled" if not str(error_type or "").startswith(("Sandbox.", "Runtime.")) else error_type,
                },
                "responsePayload": payload,
            }
        )
        log.info("function %s: async invocation %s failed after %d attempts", self.name, item["request_id"], attempts)

    def describe(self) -> dict[str, Any]:
        process = self._process
        return {
            "name": self.name,
            "arn": self.arn,
            "account": self.account,
            "region": self.region,
            "command": self.command,
            "timeout": self.timeout,
            "runtime_api": self.runtime_api,
            "log_path": self.log_path,
            "pid": process.pid if process is not None and process.poll() is None else None,
            "pending_async": len(self._async),
            "invocations": list(self.invocations),
            "failed_async_invocations": len(self.failures),
        }

    # -- the Runtime API ------------------------------------------------------------------------

    def next_invocation(self, alive: Any) -> Invocation | None:
        """Blocks until an event is pending; None once the function is removed or its client went away."""
        with self._lock:
            while not self._pending:
                if self._closed or not alive():
                    return None
                self._lock.wait(0.5)
            invocation = self._pending.popleft()
            self._running[invocation.id] = invocation
            return invocation

    def answer(self, request_id: str, outcome: str, body: bytes) -> bool:
        with self._lock:
            invocation = self._running.pop(request_id, None)
            if invocation is None or invocation.done.is_set():
                return False
            invocation.outcome, invocation.body = outcome, body
            invocation.done.set()
            return True


def _handler_for(function: Function) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # the runtime clients keep the connection alive

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - BaseHTTPRequestHandler's name
            return

        def _reply(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
            except OSError:  # the process went away (killed at a timeout, or removed)
                self.close_connection = True

        def _client_alive(self) -> bool:
            # A killed process (timeout, restart) leaves its long poll behind: it must not take the next event.
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return True
            try:
                return self.connection.recv(1, socket.MSG_PEEK) != b""
            except OSError:
                return False

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if self.path != f"{RUNTIME_PREFIX}/invocation/next":
                return self._reply(404, {"errorType": "NotFound", "errorMessage": self.path})
            invocation = function.next_invocation(self._client_alive)
            if invocation is None:
                self.close_connection = True
                return self._reply(500, {"errorType": "ServiceException", "errorMessage": "the function was removed"})
            headers = {
                "Lambda-Runtime-Aws-Request-Id": invocation.id,
                "Lambda-Runtime-Deadline-Ms": str(int(invocation.deadline * 1000)),
                "Lambda-Runtime-Invoked-Function-Arn": invocation.function_arn,
                "Lambda-Runtime-Trace-Id": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0",
            }
            self._reply(200, json.dumps(invocation.event).encode(), headers)

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = self.path[len(RUNTIME_PREFIX):].split("/") if self.path.startswith(RUNTIME_PREFIX) else []
            if parts[1:] == ["init", "error"]:
                function.init_error = body.decode(errors="replace") or "init error"
                return self._reply(202, {"status": "OK"})
            if len(parts) == 4 and parts[1] == "invocation" and parts[3] in ("response", "error"):
                if function.answer(parts[2], parts[3], body):
                    return self._reply(202, {"status": "OK"})
                # An unknown or already answered (timed out) request id.
                return self._reply(400, {"errorType": "InvalidRequestID", "errorMessage": "Invalid request ID"})
            self._reply(404, {"errorType": "NotFound", "errorMessage": self.path})

    return Handler


class Registry:
    """The functions of the local cloud, by ARN; the SNS hook looks them up here."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_arn: dict[str, Function] = {}

    def register(self, spec: Any, default_account: str, default_region: str) -> Function:
        check_spec(spec)
        account = str(spec.get("account") or default_account)
        with self._lock:
            old = [f for f in self.by_arn.values() if f.name == spec["name"] and f.account == account]
        for function in old:
            self.remove(function.arn)
        function = Function(spec, account, default_region)
        with self._lock:
            self.by_arn[function.arn] = function
        return function

    def get(self, name_or_arn: str) -> Function | None:
        with self._lock:
            if name_or_arn in self.by_arn:
                return self.by_arn[name_or_arn]
            base = ":".join(name_or_arn.split(":")[:7])  # drop a version or alias qualifier
            if base in self.by_arn:
                return self.by_arn[base]
            return next((f for f in self.by_arn.values() if f.name == name_or_arn), None)

    def remove(self, arn: str) -> bool:
        with self._lock:
            function = self.by_arn.pop(arn, None)
        if function is None:
            return False
        function.close()
        return True

    def close_all(self) -> None:
        for arn in list(self.by_arn):
            self.remove(arn)


def check_spec(spec: Any) -> None:
    if not isinstance(spec, dict):
        raise SpecError("the body must be a JSON object with name and command")
    name = spec.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= 64 or not set(name) <= NAME_CHARS:
        raise SpecError("name must be 1-64 letters, digits, '-' or '_' (a Lambda function name)")
    command = spec.get("command")
    if not isinstance(command, list) or not command or not all(isinstance(a, str) and a for a in command):
        raise SpecError("command must be a non-empty list of strings (the program and its arguments)")
    if not os.access(command[0], os.X_OK):
        raise SpecError(f"command[0] {command[0]!r} is not an executable file (give an absolute path)")
    env = spec.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, (str, int, float)) for k, v in env.items()):
        raise SpecError("env must map variable names to strings")
    timeout = spec.get("timeout", 30)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 1 <= timeout <= 900:
        raise SpecError("timeout must be 1-900 seconds (Lambda's range)")
    retries = spec.get("maximum_retry_attempts", 2)
    if isinstance(retries, bool) or retries not in (0, 1, 2):
        raise SpecError("maximum_retry_attempts must be 0, 1 or 2 (Lambda's MaximumRetryAttempts)")
    delays = spec.get("retry_delays", [60, 120])
    if not isinstance(delays, list) or not all(isinstance(d, (int, float)) and not isinstance(d, bool) and 0 <= d <= 600 for d in delays):
        raise SpecError("retry_delays must be a list of seconds (0-600) between async attempts")
    account = spec.get("account")
    if account is not None and not (isinstance(account, str) and account.isdigit() and len(account) == 12):
        raise SpecError("account must be a 12-digit account id")
    region = spec.get("region")
    if region is not None and not (isinstance(region, str) and region):
        raise SpecError("region must be a region name")


def sns_event(subscription: Any, message: str, message_id: str, subject: str | None, attributes: dict[str, Any] | None) -> dict[str, Any]:
    """The event SNS hands a Lambda subscriber (with-sns.html)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    region = subscription.topic.arn.split(":")[3]
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription.arn,
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id,
                    "TopicArn": subscription.topic.arn,
                    "Subject": subject,
                    "Message": message,
                    "Timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
                    "SignatureVersion": "1",
                    "Signature": "bG9jYWxjbG91ZA==",
                    "SigningCertUrl": f"https://sns.{region}.amazonaws.com/SimpleNotificationService-localcloud.pem",
                    "UnsubscribeUrl": f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={subscription.arn}",
                    "MessageAttributes": {k: {"Type": v.get("Type"), "Value": v.get("Value")} for k, v in (attributes or {}).items()},
                },
            }
        ]
    }


REGISTRY = Registry()
