"""What CloudFormation keeps per account and region (stacks, StackSets): found by name or id,
newest first; a deleted one stays visible by its id only, as DescribeStacks shows a deleted stack
by StackId while its name is free for a new one."""

from __future__ import annotations

import threading
from typing import Callable, Generic, Protocol, TypeVar


class Regional(Protocol):
    account: str
    region: str
    id: str
    name: str
    status: str


T = TypeVar("T", bound=Regional)


class RegionalStore(Generic[T]):
    """Items by (account, region); `deleted` is the status of a deleted one, `not_found` the error
    for a name or id nothing answers to."""

    def __init__(self, deleted: str, not_found: Callable[[str], Exception]) -> None:
        self.lock = threading.RLock()
        self.items: dict[tuple[str, str], list[T]] = {}
        self.deleted = deleted
        self.not_found = not_found

    def add(self, item: T) -> None:
        with self.lock:
            self.items.setdefault((item.account, item.region), []).append(item)

    def all(self, account: str, region: str) -> list[T]:
        with self.lock:
            return list(self.items.get((account, region), []))

    def find(self, account: str, region: str, name_or_id: str) -> T | None:
        for item in reversed(self.all(account, region)):
            if item.id == name_or_id or (item.name == name_or_id and item.status != self.deleted):
                return item
        return None

    def get(self, account: str, region: str, name_or_id: str | None) -> T:
        item = self.find(account, region, name_or_id or "")
        if item is None:
            raise self.not_found(name_or_id or "")
        return item

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
