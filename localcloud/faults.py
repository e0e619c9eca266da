"""Fault injection: latency, throttling and 5xx errors for chosen calls.

A fault matches by service (signing name: chatbot, supportapp, sts, iam,
sns, organizations, s3, ...), optionally operation and account, and fires for
the next `count` matching calls or for a `rate` fraction of them. Several
faults can match one call: their latencies add up and the first throttle or
error answers it. Tests of one shared server run in parallel, so a fault
should be narrowed by account (or operation) to the test that added it.
"""

from __future__ import annotations

import itertools
import random
import threading
from dataclasses import asdict, dataclass
from typing import Any

from localcloud.protocols import Call, normalize_service

KINDS = ("throttle", "error", "latency")


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
    fired: int = 0

    def describe(self) -> dict[str, Any]:
        return asdict(self)


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
        remaining=count,
    )


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

    def fire(self, call: Call, account: str | None) -> list[Fault]:
        """The faults that fire for this call (counts are used up here)."""
        service = normalize_service(call.service) if call.service else None
        fired = []
        with self._lock:
            for fault in self._faults:
                if fault.service and fault.service != service:
                    continue
                if fault.operation and fault.operation != call.operation:
                    continue
                if fault.account and fault.account != account:
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                elif fault.rate is not None and self._random.random() >= fault.rate:
                    continue
                fault.fired += 1
                fired.append(fault)
            self._faults = [f for f in self._faults if f.remaining is None or f.remaining > 0]
        return fired
