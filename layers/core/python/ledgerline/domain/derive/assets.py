"""Asset status rows: from an operation's asset fields, or from a purchase's goods_status.

- operations: a row when a version of an operation carries an `asset_id` and its asset fields
  (asset_id, asset_type, asset_status, asset_value) differ from the version before (or it is
  the first). Deleting an operation derives nothing: it withdraws a statement about money,
  not about the asset.
- purchases: the financed goods are an asset whose id is the disbursement id, of type
  `goods`; a row when a purchase is created and whenever its goods_status changes.
`previous_status` is the status the same source said before, null when it said none.
"""

from __future__ import annotations

from typing import Any

from ledgerline.domain.derive.common import ASSET_EVENT, Cause, Row
from ledgerline.domain.tables import ASSET_STATUS

OPERATION_ASSET_FIELDS = ("asset_id", "asset_type", "asset_status", "asset_value")
GOODS = "goods"


def operation_asset(old: dict[str, Any] | None, new: dict[str, Any], cause: Cause) -> list[Row]:
    if new.get("deleted") or not new.get("asset_id"):
        return []
    before = {k: (old or {}).get(k) for k in OPERATION_ASSET_FIELDS}
    after = {k: new.get(k) for k in OPERATION_ASSET_FIELDS}
    if old is not None and not old.get("deleted") and before == after:
        return []
    same_asset = before["asset_id"] == after["asset_id"]
    return [_row(
        asset_id=new["asset_id"],
        status=new.get("asset_status"),
        previous=before["asset_status"] if same_asset else None,
        asset_type=new.get("asset_type"),
        asset_value=new.get("asset_value"),
        disbursement_id=new.get("disbursement_id"),
        source="operation",
        cause=cause,
        extra={"operation_id": new["operation_id"]},
    )]


def goods_asset(old: dict[str, Any] | None, new: dict[str, Any], cause: Cause) -> list[Row]:
    if new.get("kind") != "purchase" or new.get("deleted"):
        return []
    before = (old or {}).get("goods_status")
    if old is not None and before == new.get("goods_status"):
        return []
    disbursement_id = new["disbursement_id"]
    return [_row(
        asset_id=disbursement_id,
        status=new.get("goods_status"),
        previous=before,
        asset_type=GOODS,
        asset_value=None,
        disbursement_id=disbursement_id,
        source="goods_status",
        cause=cause,
        extra={"goods_description": new.get("goods_description")},
    )]


def _row(*, asset_id, status, previous, asset_type, asset_value, disbursement_id, source, cause, extra) -> Row:
    row_id = cause.row_id(asset_id)
    record = {
        "asset_status_id": row_id,
        "asset_id": asset_id,
        "status": status,
        "previous_status": previous,
        "asset_type": asset_type,
        "asset_value": asset_value,
        "source": source,
        **extra,
        "valid_from": cause.valid_from,
        "cause": cause.as_record(),
        "deleted": False,
    }
    if disbursement_id:
        record["disbursement_id"] = disbursement_id
    entity = {k: v for k, v in record.items() if k != "deleted"}
    what = f"status {status}" if status else "details"
    return Row(ASSET_STATUS, row_id, record, ASSET_EVENT, f"Asset {asset_id} {what} recorded", entity)
