"""The due index is sharded (keys.py "Due index shards"): entries spread over DUE#{kind}#{0..7} by a
stable hash of their id, and the sweeps read every shard (tests/integration/test_repository_contract.py
checks that nothing due is missed on either implementation)."""

from __future__ import annotations

import zlib
from collections import Counter

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.due import DUE_SHARDS, shard_of
from chalicelib.clock import FixedClock
from chalicelib.deps import Deps
from chalicelib.domain.routing import Offer

NOW = "2026-11-02T15:00:00.000Z"


def test_the_shard_is_a_stable_hash_of_the_id() -> None:
    # Not Python's salted hash(): every process and release must put an id in the same shard.
    assert shard_of("ofr_01JC0000000000000000000000") == zlib.crc32(b"ofr_01JC0000000000000000000000") % DUE_SHARDS
    assert keys.due_pk("OFFER", 3) == "DUE#OFFER#3"


def test_pending_offers_of_every_tenant_spread_over_the_shards(aws: None) -> None:
    deps = Deps(clock=FixedClock(NOW))
    offers = [Offer(offer_id=f"ofr_{n:04d}", lead_id=f"lead_{n:04d}", account_id=f"acc_{n % 5}", group_id="grp_1",
                    agent_id="usr_1", routing_version=1, made_at=NOW, expires_at=NOW) for n in range(200)]
    for start in range(0, len(offers), 25):
        deps.transactions.commit([deps.routing.add_offer(o) for o in offers[start:start + 25]])
    partitions = Counter(deps.table.get(keys.offer_key(o.offer_id))["GSI7PK"] for o in offers)
    assert set(partitions) == {keys.due_pk("OFFER", shard) for shard in range(DUE_SHARDS)}
    assert max(partitions.values()) < 2 * len(offers) / DUE_SHARDS  # no shard carries twice its share
