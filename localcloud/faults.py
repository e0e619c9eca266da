"""Fault injection: latency, throttling, 5xx errors and expired credentials for chosen calls.

A fault matches by service (signing name: chatbot, supportapp, sts, iam,
sns, organizations, s3, ...), optionally operation and account, and fires for
the next `count` matching calls or for a `rate` fraction of them; with
`each_operation`, the count applies to every distinct operation on its own
("throttle each call twice"). Several faults can match one call: their
latencies add up and the first throttle, error or expiry answers it. Tests of
one shared server run in parallel, so a fault should be narrowed by account
(or operation) to the test that added it.

`expired` is what AWS answers when temporary credentials run out: it fires
only for calls signed with session credentials (from AssumeRole) of
`account` that were issued before the fault was added, so credentials
obtained afterwards work, as fresh ones would.
"""

from __future__ import annotations

import datetime
import itertools
import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from localcloud.protocols import Call, normalize_service

KINDS = ("throttle", "error", "latency", "expired")


class FaultSpecError(ValueError):
    pass


@dataclass
class Fault:
    id: str
    service: str | None
    operation: str | None
    account: str | None
    kind: str
    status: int
    code: str | None
    latency_ms: int
    count: int | None
    rate: float | None
    remaining: int | None
    each_operation: bool = False
    issued_before: datetime.datetime | None = None
    fired: int = 0
    fired_by_operation: dict[str, int] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        described = asdict(self)
        if self.issued_before is not None:
            described["issued_before"] = self.issued_before.isoformat()
        return described

    def exhausted(self) -> bool:
        return not self.each_operation and self.remaining is not None and self.remaining <= 0


def parse_fault(spec: Any, fault_id: str) -> Fault:
    if not isinstance(spec, dict):
        raise FaultSpecError("the body must be a JSON object")
    kind = spec.get("kind")
    if kind not in KINDS:
        raise FaultSpecError(f"kind must be one of {', '.join(KINDS)}")
    count, rate = spec.get("count"), spec.get("rate")
    if count is not None and rate is not None:
        raise FaultSpecError("give count or rate, not both")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        raise FaultSpecError("count must be a positive integer")
    if rate is not None and (isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= rate <= 1.0):
        raise FaultSpecError("rate must be a number from 0.0 to 1.0")
    if count is None and rate is None:
        rate = 1.0
    status = spec.get("status", 500 if kind == "error" else 0)
    if kind == "error" and (isinstance(status, bool) or not isinstance(status, int) or not 500 <= status <= 599):
        raise FaultSpecError("status of an error fault must be 500-599")
    latency = spec.get("latency_ms", 0)
    if kind == "latency" and (isinstance(latency, bool) or not isinstance(latency, int) or not 0 < latency <= 600_000):
        raise FaultSpecError("latency_ms must be a positive integer (at most 600000)")
    for key in ("service", "operation", "account", "code"):
        if spec.get(key) is not None and not isinstance(spec[key], str):
            raise FaultSpecError(f"{key} must be a string")
    each_operation = spec.get("each_operation", False)
    if not isinstance(each_operation, bool):
        raise FaultSpecError("each_operation must be true or false")
    if each_operation and count is None:
        raise FaultSpecError("each_operation needs a count (how many calls of each operation fail)")
    if kind == "expired" and not spec.get("account"):
        raise FaultSpecError("an expired fault needs the account whose credentials expire")
    service = spec.get("service")
    return Fault(
        id=fault_id,
        service=normalize_service(service) if service else None,
        operation=spec.get("operation"),
        account=spec.get("account"),
        kind=kind,
        status=status,
        code=spec.get("code"),
        latency_ms=latency if kind == "latency" else 0,
        count=count,
        rate=float(rate) if rate is not None else None,
        remaining=None if each_operation else count,
        each_operation=each_operation,
        issued_before=_utcnow() if kind == "expired" else None,
    )


def _utcnow() -> datetime.datetime:
    # moto stamps access keys with naive UTC datetimes
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class FaultRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self._random = random.Random()

    def add(self, spec: Any) -> Fault:
        with self._lock:
            fault = parse_fault(spec, f"fault-{next(self._ids)}")
            self._faults.append(fault)
            return fault

    def clear(self) -> int:
        with self._lock:
            n = len(self._faults)
            self._faults.clear()
            return n

    def remove(self, fault_id: str) -> bool:
        with self._lock:
            before = len(self._faults)
            self._faults = [f for f in self._faults if f.id != fault_id]
            return len(self._faults) != before

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.describe() for f in self._faults]

    def __bool__(self) -> bool:
        return bool(self._faults)

    def needs_account(self) -> bool:
        return any(f.account for f in self._faults)

    def needs_key_issue_time(self) -> bool:
        return any(f.kind == "expired" for f in self._faults)

    def fire(self, call: Call, account: str | None, key_issued_at: Callable[[], datetime.datetime | None] = lambda: None) -> list[Fault]:
        """The faults that fire for this call (counts are used up here).

        `key_issued_at` tells when the call's session credentials were issued
        (None for long-term keys); it is asked only when an expired fault matches.
        """
        service = normalize_service(call.service) if call.service else None
        operation = call.operation or "?"
        fired = []
        with self._lock:
            for fault in self._faults:
                if fault.service and fault.service != service:
                    continue
                if fault.operation and fault.operation != call.operation:
                    continue
                if fault.account and fault.account != account:
                    continue
                if fault.issued_before is not None:
                    issued = key_issued_at()
                    if issued is None or issued >= fault.issued_before:
                        continue
                if fault.each_operation:
                    if fault.fired_by_operation.get(operation, 0) >= (fault.count or 0):
                        continue
                elif fault.remaining is not None:
                    fault.remaining -= 1
                elif fault.rate is not None and self._random.random() >= fault.rate:
                    continue
                fault.fired += 1
                fault.fired_by_operation[operation] = fault.fired_by_operation.get(operation, 0) + 1
                fired.append(fault)
            self._faults = [f for f in self._faults if not f.exhausted()]
        return fired
