"""The cost model's billing arithmetic (bench/units.py): item sizes, units, index writes."""

from __future__ import annotations

from bench.units import FOUR_KB, KB, attribute_size, index_copy_size, index_writes, item_size, units
from ledgerline.store.schema import BY_DISBURSEMENT, LIST_BY_TABLE, LIST_BY_TABLE_KEYS


def item(pk: str, sk: str, size: int, **attributes: str) -> dict:
    """An item of about `size` bytes (its `pad` attribute fills the rest)."""
    base = {"PK": {"S": pk}, "SK": {"S": sk}, **{k: {"S": v} for k, v in attributes.items()}}
    return {**base, "pad": {"S": "x" * max(0, size - item_size(base) - len("pad"))}}


def test_sizes_follow_dynamodbs_rules():
    assert attribute_size({"S": "héllo"}) == 6  # UTF-8 bytes
    assert attribute_size({"N": "850.25"}) == 4  # 5 significant digits: ceil(5/2) + 1
    assert attribute_size({"BOOL": True}) == 1
    assert attribute_size({"M": {"a": {"S": "xy"}}}) == 3 + 1 + 2 + 1
    assert item_size({"PK": {"S": "T#t1#x#1"}}) == 2 + 8
    assert (units(1, KB), units(KB, KB), units(KB + 1, KB), units(FOUR_KB + 1, FOUR_KB)) == (1, 1, 2, 2)


def test_an_index_copy_costs_only_where_the_item_is_on_the_index():
    keys = {LIST_BY_TABLE.partition_key: "T#t1#statements", LIST_BY_TABLE.sort_key: "2025-01-01#D1"}
    listed = item("T#t1#statements#D1", "v0", 1500, **keys)
    unlisted = item("T#t1#statements#D1", "v0000000001", 1500)

    assert index_writes(LIST_BY_TABLE, None, listed) == 2  # a new 1.5 KB copy
    assert index_writes(BY_DISBURSEMENT, None, listed) == 0  # not on that index
    assert index_writes(LIST_BY_TABLE, None, unlisted) == 0  # version items are on no index
    assert index_writes(LIST_BY_TABLE, listed, listed) == 0  # nothing changed
    changed = {**listed, "pad": {"S": "y" * len(listed["pad"]["S"])}}
    assert index_writes(LIST_BY_TABLE, listed, changed) == 2  # same keys, new content: one put
    moved = {**changed, LIST_BY_TABLE.sort_key: {"S": "2025-02-01#D1"}}
    assert index_writes(LIST_BY_TABLE, listed, moved) == 4  # the sort key moved: delete and put
    left = {k: v for k, v in listed.items() if k not in keys}
    assert index_writes(LIST_BY_TABLE, listed, left) == 2  # it left the index: a delete


def test_a_keys_only_copy_costs_one_unit_and_nothing_when_only_the_content_changes():
    keys = {LIST_BY_TABLE_KEYS.partition_key: "T#t1#statements", LIST_BY_TABLE_KEYS.sort_key: "2025-01-01#D1"}
    listed = item("T#t1#statements#D1", "v0", 2500, **keys)

    assert index_copy_size(LIST_BY_TABLE_KEYS, listed) < 200 < index_copy_size(LIST_BY_TABLE, listed)
    assert index_writes(LIST_BY_TABLE_KEYS, None, listed) == 1  # a 2.5 KB item, a copy of its keys
    changed = {**listed, "pad": {"S": "y" * len(listed["pad"]["S"])}}
    assert index_writes(LIST_BY_TABLE_KEYS, listed, changed) == 0  # nothing projected changed
    moved = {**changed, LIST_BY_TABLE_KEYS.sort_key: {"S": "2025-02-01#D1"}}
    assert index_writes(LIST_BY_TABLE_KEYS, listed, moved) == 2  # delete and put of the keys
