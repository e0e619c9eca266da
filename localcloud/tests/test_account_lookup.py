"""The fast access key -> account lookup (localcloud/patches.py) agrees with moto's own, misses included.

Runs in this process against moto's models (no server): the index is
installed here, and keys are made both through it and around it.
"""

from __future__ import annotations

from localcloud import patches

INDEXED, UNINDEXED = "210000000001", "210000000002"


def test_lookup_uses_the_index_and_falls_back_to_moto_on_a_miss():
    import moto.iam.models as iam_models
    from moto.core import DEFAULT_ACCOUNT_ID

    patches.index_access_keys()
    lookup = iam_models.get_account_id_from
    assert getattr(lookup, "_localcloud", False)

    indexed = iam_models.iam_backends[INDEXED]["global"]
    indexed.create_user("us-east-1", "indexed", path="/", tags=[])
    key = indexed.create_access_key("indexed")
    assert key.physical_resource_id in patches._KEY_INDEX
    assert lookup(key.physical_resource_id) == INDEXED

    # A key moto holds that never went through the index (moto's own create, unwrapped).
    around = iam_models.iam_backends[UNINDEXED]["global"]
    around.create_user("us-east-1", "around", path="/", tags=[])
    stray = iam_models.IAMBackend.create_access_key.__wrapped__(around, "around")
    assert stray.physical_resource_id not in patches._KEY_INDEX
    assert lookup(stray.physical_resource_id) == UNINDEXED != DEFAULT_ACCOUNT_ID

    # A key nobody made: moto's answer, its default account.
    assert lookup("AKIANOSUCHKEY0000000") == DEFAULT_ACCOUNT_ID
