"""The journal's storage: lines written once, totals that keep reports cheap, disbursement positions.

| item | PK | SK | what for |
| --- | --- | --- | --- |
| a change's lines of one valid day | `T#{tenant}#JV#{currency}` | `{valid_date}#{system_from}#{first line_id}` | drill-down |
| a change's lines, by system time | `T#{tenant}#JS#{currency}` | `{system_from}#{first line_id}` | what was stored after a `known_at` |
| day total | `T#{tenant}#JT#{currency}` | `D#{yyyy-mm-dd}#{shard}` | the lines of one valid day |
| month total | `T#{tenant}#JT#{currency}` | `M#{yyyy-mm}#{shard}` | the lines of one valid month |
| position | `T#{tenant}#JP#{disbursement_id}` | `position` | a disbursement's receivable, own postings, origination and its day |

One change's lines are one `TransactWriteItems`: an item per valid day holding the change's
lines of that day, and one item holding all of them by system time (the lines as compressed
JSON: one write unit for the usual 2 to 4 lines instead of one per line), each put only if
absent (deterministic ids); `ADD`s to the totals and the position; and the change's receivable
movement set on the disbursement's portfolio facts (`store.portfolio`). A redelivered change
finds its first item there and the whole transaction is refused, so totals are never added
twice. The lines of one item share their valid day, system time and disbursement, which the
item carries as attributes for the journal's filters; an account filter and a page boundary
inside an item are applied to its lines (`lines_page`). The
totals of a change go to one shard (a hash of the disbursement, else the operation, mod
`TOTAL_SHARDS`), so concurrent changes of different disbursements rarely touch the same item;
a reader sums the shards. A write that depends on the position (a write-off's cap, a delete's
reversal) is conditional on the position's `seq`: a concurrent change makes it retry.
"""

from __future__ import annotations

import hashlib
import zlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ledgerline import aws
from ledgerline.domain.journal import POSTING_ACCOUNTS, Line, Position
from ledgerline.domain.jsonio import dumps, loads
from ledgerline.domain.reports import FLOWS, REBATES, Movement, receivable_facts
from ledgerline.settings import get_settings
from ledgerline.store import portfolio
from ledgerline.store.records import from_attributes, to_attributes, transact
from ledgerline.store.schema import PK, SK

TOTAL_SHARDS = 4
POSITION_SK = "position"
LINES = "lines"  # the lines a journal item holds: JSON, compressed
_HIGH = "~"  # sorts after every character of a date, timestamp or id
_LINE_FIELDS = ("line_id", "currency", "valid_date", "system_from", "account", "debit", "credit",
                "disbursement_id", "memo", "cause", "entry", "flows", "memo_amount", "own")


def _table() -> str:
    return get_settings().records_table


def by_valid_pk(tenant: str, currency: str) -> str:
    return f"T#{tenant}#JV#{currency}"


def by_system_pk(tenant: str, currency: str) -> str:
    return f"T#{tenant}#JS#{currency}"


def totals_pk(tenant: str, currency: str) -> str:
    return f"T#{tenant}#JT#{currency}"


def position_key(tenant: str, disbursement_id: str) -> dict[str, dict[str, str]]:
    return {PK: {"S": f"T#{tenant}#JP#{disbursement_id}"}, SK: {"S": POSITION_SK}}


def shard_of(tenant: str, owner_id: str) -> int:
    return int(hashlib.sha256(f"{tenant}\n{owner_id}".encode()).hexdigest()[:8], 16) % TOTAL_SHARDS


# writing ----------------------------------------------------------------------------------


def read_position(tenant: str, disbursement_id: str) -> Position:
    item = aws.dynamodb().get_item(TableName=_table(), Key=position_key(tenant, disbursement_id),
                                   ConsistentRead=True).get("Item")
    if not item:
        return Position()
    values = from_attributes(item)
    own = {name[4:]: Decimal(value) for name, value in values.items() if name.startswith("own_")}
    origin = {name[5:]: Decimal(value) for name, value in values.items() if name.startswith("orig_")}
    return Position(Decimal(values.get("receivable", 0)), own, int(values.get("seq", 0)), origin,
                    values.get("origin_day"))


def line_items(tenant: str, lines: list[Line]) -> list[dict[str, Any]]:
    """The puts of one change's lines, each only if absent: one item per valid day (and
    disbursement) by valid date, one item by system time holding them all."""
    if not lines:
        return []
    currency = lines[0].currency
    days: dict[tuple[str, str, str], list[Line]] = defaultdict(list)
    for line in sorted(lines, key=lambda line: line.line_id):
        days[(line.valid_date, line.system_from, line.disbursement_id or "")].append(line)
    keyed = []
    for (valid_date, system_from, disbursement_id), day in sorted(days.items()):
        shared = {"valid_date": valid_date, "system_from": system_from}
        if disbursement_id:
            shared["disbursement_id"] = disbursement_id
        keyed.append(((by_valid_pk(tenant, currency), f"{valid_date}#{system_from}#{day[0].line_id}"),
                      {**shared, LINES: _packed(day)}))
    first = min(lines, key=lambda line: line.line_id)
    keyed.append(((by_system_pk(tenant, currency), f"{first.system_from}#{first.line_id}"),
                  {"system_from": first.system_from, LINES: _packed(lines)}))
    return [{"Put": {"TableName": _table(), "Item": {PK: {"S": pk}, SK: {"S": sk},
                                                     **to_attributes({"tenant": tenant, **values})},
                     "ConditionExpression": "attribute_not_exists(PK)"}} for (pk, sk), values in keyed]


def _packed(lines: list[Line]) -> bytes:
    return zlib.compress(dumps([_line_values(line) for line in lines]).encode("utf-8"), 9)


def _line_values(line: Line) -> dict[str, Any]:
    return {name: getattr(line, name) for name in _LINE_FIELDS}


def movement_attributes(moved: Movement) -> dict[str, Decimal]:
    values = {f"n{account}": value for account, value in moved.nets.items() if value}
    values.update({name: value for name, value in moved.flows.items() if value})
    if moved.rebates:
        values[REBATES] = moved.rebates
    return values


def _add(key: dict[str, Any], values: dict[str, Decimal], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    names = {f"#a{i}": name for i, name in enumerate(values)}
    update = {
        "TableName": _table(), "Key": key,
        "UpdateExpression": "ADD " + ", ".join(f"#a{i} :a{i}" for i in range(len(values))),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": {f":a{i}": {"N": str(value)} for i, value in enumerate(values.values())},
    }
    if extra:
        update.update(extra)
    return {"Update": update}


def total_movements(shard: int, lines: list[Line]) -> dict[str, Movement]:
    """The lines' movements by the sort key of their day and month totals."""
    periods: dict[str, Movement] = defaultdict(Movement)
    for line in lines:
        moved = Movement.of_line(line)
        periods[f"D#{line.valid_date}#{shard}"].add(moved)
        periods[f"M#{line.valid_date[:7]}#{shard}"].add(moved)
    return periods


def total_updates(tenant: str, currency: str, shard: int, lines: list[Line]) -> list[dict[str, Any]]:
    """ADDs of the lines' movements to their day and month totals (one item per day and month)."""
    updates = []
    for sort_key, moved in sorted(total_movements(shard, lines).items()):
        values = movement_attributes(moved)
        if values:
            updates.append(_add({PK: {"S": totals_pk(tenant, currency)}, SK: {"S": sort_key}}, values))
    return updates


def position_update(tenant: str, disbursement_id: str, change: Position, lock: Position | None) -> dict[str, Any]:
    """ADD the change to the position and bump its seq; with `lock`, only if nobody moved it since."""
    values: dict[str, Decimal] = {"seq": Decimal(1), "receivable": change.receivable}
    values.update({f"own_{account}": value for account, value in change.own.items() if value})
    values.update({f"orig_{account}": value for account, value in change.origin.items() if value})
    extra = None
    if lock is not None:
        if lock.seq:
            extra = {"ConditionExpression": "#seq = :seen"}
        else:
            extra = {"ConditionExpression": "attribute_not_exists(#seq) OR #seq = :seen"}
    update = _add(position_key(tenant, disbursement_id), values, extra)
    names, expression_values = update["Update"]["ExpressionAttributeNames"], update["Update"]["ExpressionAttributeValues"]
    if lock is not None:
        names["#seq"] = "seq"
        expression_values[":seen"] = {"N": str(lock.seq)}
    if change.origin_day:  # where its origination now stands (a start date moved it)
        update["Update"]["UpdateExpression"] += " SET #origin_day = :origin_day"
        names["#origin_day"] = "origin_day"
        expression_values[":origin_day"] = {"S": change.origin_day}
    return update


def write(tenant: str, lines: list[Line], shard: int, position: tuple[str, Position, Position | None] | None) -> None:
    """One transaction: the lines, their totals and (disbursement id, change, lock) the position.

    Raises records.AlreadyWritten when the lines are there already (a redelivery) and
    records.WriteConflict when the position moved or a concurrent transaction interfered.
    """
    if not lines:
        return
    currency = lines[0].currency
    items = line_items(tenant, lines)
    items += total_updates(tenant, currency, shard, lines)
    if position is not None:
        disbursement_id, change, lock = position
        items.append(position_update(tenant, disbursement_id, change, lock))
        receivable = receivable_facts(lines)
        if receivable:  # the portfolio's outstanding: set with the lines, so exactly the lines written
            items.append(portfolio.set_facts(tenant, currency, disbursement_id, receivable))
    if len(items) > 100:
        raise ValueError(f"{len(lines)} lines of one change do not fit one transaction")
    transact(items, already_done_index=0)


# reading ----------------------------------------------------------------------------------


def _line(values: dict[str, Any]) -> Line:
    return Line(**{name: values.get(name) for name in _LINE_FIELDS} | {
        "debit": Decimal(values.get("debit") or 0),
        "credit": Decimal(values.get("credit") or 0),
        "flows": {k: Decimal(v) for k, v in (values.get("flows") or {}).items()},
        "entry": int(values.get("entry") or 0),
        "memo_amount": Decimal(values.get("memo_amount") or 0),
        "own": bool(values.get("own")),
    })


def lines_of(item: dict[str, Any]) -> list[Line]:
    """The lines an item holds (by valid date or by system time), in line id order. An item
    written before a change's lines shared their items holds one line, as attributes."""
    if LINES not in item:
        return [_line(from_attributes(item))]
    return [_line(values) for values in loads(zlib.decompress(item[LINES]["B"]).decode("utf-8"))]


def _query(request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    client = aws.dynamodb()
    while True:
        response = client.query(**request)
        yield from response.get("Items", [])
        if not response.get("LastEvaluatedKey"):
            return
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _between(pk: str, low: str, high: str) -> dict[str, Any]:
    return {
        "TableName": _table(),
        "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :low AND :high",
        "ExpressionAttributeNames": {"#pk": PK, "#sk": SK},
        "ExpressionAttributeValues": {":pk": {"S": pk}, ":low": {"S": low}, ":high": {"S": high}},
        "ConsistentRead": True,
    }


def _movement_of_total(item: dict[str, Any]) -> Movement:
    values = from_attributes(item)
    moved = Movement()
    for account in POSTING_ACCOUNTS:
        if f"n{account}" in values:
            moved.nets[account] = Decimal(values[f"n{account}"])
    for name in FLOWS:
        if name in values:
            moved.flows[name] = Decimal(values[name])
    moved.rebates = Decimal(values.get(REBATES, 0))
    return moved


def _next_month(day: date) -> date:
    """The first day of the month after `day`'s."""
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def total_ranges(first: date | None, last: date) -> list[tuple[str, str]]:
    """Sort-key ranges of the totals covering valid days [first, last] (first None: since inception):
    day totals for the partial months at either end, month totals for the whole months between."""
    tail = last.replace(day=1)
    if first is not None and first >= tail:
        return [(f"D#{first.isoformat()}", f"D#{last.isoformat()}#{_HIGH}")]
    ranges = []
    months_from = first
    if first is not None and first.day != 1:
        head_end = _next_month(first) - timedelta(days=1)
        ranges.append((f"D#{first.isoformat()}", f"D#{head_end.isoformat()}#{_HIGH}"))
        months_from = _next_month(first)
    if (months_from or date.min) < tail:  # whole months before the last one (none before year 1)
        before_tail = (tail - timedelta(days=1)).isoformat()[:7]
        ranges.append((f"M#{months_from.isoformat()[:7]}" if months_from else "M#", f"M#{before_tail}#{_HIGH}"))
    ranges.append((f"D#{tail.isoformat()}", f"D#{last.isoformat()}#{_HIGH}"))
    return ranges


def movement(tenant: str, currency: str, first: date | None, last: date) -> Movement:
    """The sum of the totals of valid days [first, last] (first None: since inception), as known now.

    At most three queries, O(months + days of the partial months) items per shard, however many
    lines the book holds.
    """
    total = Movement()
    for low, high in total_ranges(first, last):
        for item in _query(_between(totals_pk(tenant, currency), low, high)):
            total.add(_movement_of_total(item))
    return total


def stored_after(tenant: str, currency: str, known_at: str) -> list[Line]:
    """Every line whose source version was stored after `known_at` (a normalised system time):
    one item per change, read whole."""
    request = {
        "TableName": _table(),
        "KeyConditionExpression": "#pk = :pk AND #sk > :after",
        "ExpressionAttributeNames": {"#pk": PK, "#sk": SK},
        # '$' sorts right after '#': every key of a line stored at `known_at` itself is before it
        "ExpressionAttributeValues": {":pk": {"S": by_system_pk(tenant, currency)}, ":after": {"S": f"{known_at}$"}},
        "ConsistentRead": True,
    }
    return [line for item in _query(request) for line in lines_of(item)]


@dataclass(frozen=True)
class LinePage:
    lines: list[Line]
    # Where the next page starts: {"after": the key of the last item read whole (None: from the
    # first), "skip": how many (account-filtered) lines of the next item this page already holds}.
    last_key: dict[str, Any] | None


def lines_page(tenant: str, currency: str, first: date, last: date, *, limit: int, start_key: dict[str, Any] | None,
               account: str | None, disbursement_id: str | None, known_at: str | None) -> LinePage:
    """A page of lines valid within [first, last], in valid-date, system-time, line-id order.

    Items hold a change's lines of one day: the disbursement and known_at filters apply to
    items, the account filter to their lines. A page may end inside an item; its `last_key`
    then says how many of that item's lines to skip.
    """
    request = _between(by_valid_pk(tenant, currency), first.isoformat(), f"{last.isoformat()}#{_HIGH}")
    conditions, names, values = [], request["ExpressionAttributeNames"], request["ExpressionAttributeValues"]
    if disbursement_id:
        conditions.append("#disbursement = :disbursement")
        names["#disbursement"], values[":disbursement"] = "disbursement_id", {"S": disbursement_id}
    if known_at:
        conditions.append("#system <= :known")
        names["#system"], values[":known"] = "system_from", {"S": known_at}
    if conditions:
        request["FilterExpression"] = " AND ".join(conditions)
    client = aws.dynamodb()
    found: list[Line] = []
    start = start_key or {}
    if PK in start:  # a cursor issued before pages could end inside an item: a plain key
        start = {"after": start}
    after, skip = start.get("after"), int(start.get("skip") or 0)
    while True:
        page = client.query(**request, Limit=limit - len(found) + 1, **({"ExclusiveStartKey": after} if after else {}))
        items = page.get("Items", [])
        for index, item in enumerate(items):
            lines = [line for line in lines_of(item) if account is None or line.account == account][skip:]
            room = limit - len(found)
            if len(lines) > room:  # the page ends inside this item
                found += lines[:room]
                return LinePage(found, {"after": after, "skip": skip + room})
            found += lines
            after, skip = {PK: item[PK], SK: item[SK]}, 0
            if len(found) == limit:
                more = index + 1 < len(items) or bool(page.get("LastEvaluatedKey"))
                return LinePage(found, {"after": after, "skip": 0} if more else None)
        if not page.get("LastEvaluatedKey"):
            return LinePage(found, None)
        after = page["LastEvaluatedKey"]
