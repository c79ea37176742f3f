"""`make demo`: seed the running local stack with demo data and print what to try next.

The seed (`POST /api/demo/seed`, docs/distributions.md) is a lending book with a late loan, an
extension and a write-off, and a demo asset with holders and a cash-flow event; it is
idempotent, so running it again changes nothing.

    make run                      # in one shell: prints the demo keys
    make demo KEY=ll_...          # in another: the key with the distribute scope
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=f"http://127.0.0.1:{os.environ.get('PORT', '3000')}")
    parser.add_argument("--key", default=os.environ.get("KEY"), help="an API key with the distribute scope")
    args = parser.parse_args(argv)
    if not args.key:
        parser.error("give the demo key printed by `make run`: make demo KEY=ll_...")
    request = urllib.request.Request(f"{args.url}/api/demo/seed", data=b"", method="POST",
                                     headers={"Authorization": f"Bearer {args.key}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            seeded = json.loads(response.read())
    except urllib.error.HTTPError as error:
        print(f"POST /api/demo/seed answered {error.code}: {error.read().decode()}", file=sys.stderr)
        return 1
    except urllib.error.URLError as error:
        print(f"cannot reach the local stack at {args.url} ({error.reason}); start it with `make run`",
              file=sys.stderr)
        return 1
    book = seeded["lending_book"]
    print(f"Seeded {args.url}: a lending book of {book['events']} events ({book['stored']} new), "
          f"asset {seeded['asset_id']} with holders {seeded['holders']}, "
          f"cash-flow event {seeded['cash_flow_event_id']}.")
    asset, auth = seeded["asset_id"], "-H \"Authorization: Bearer $KEY\""
    print(f"""
Try next (export API={args.url} KEY=<your key>; the worker derives rows within seconds):
  the late loan's statement, cycle by cycle, and its status history (ongoing, then overdue):
    curl -s $API/api/tables/statements/DEMO-L2 {auth}
    curl -s "$API/api/tables/disbursement_status?disbursement_id=DEMO-L2" {auth}
  the write-off and the extension the worker derived:
    curl -s "$API/api/tables/write_offs?disbursement_id=DEMO-L3" {auth}
    curl -s "$API/api/tables/extensions?disbursement_id=DEMO-L1" {auth}
  a loan as it stood before its extension, and every version of it:
    curl -s $API/api/tables/disbursements/DEMO-L1/as-of/2026-08-31 {auth}
    curl -s $API/api/tables/disbursements/DEMO-L1/history {auth}
  the book's balance sheet and how late it is (docs/reports.md):
    curl -s "$API/api/reports/balance-sheet?as_of=2026-11-30&currency=EUR" {auth}
    curl -s "$API/api/reports/portfolio?as_of=2026-11-30&currency=EUR" {auth}
  a distribution (docs/distributions.md walks through the whole cycle):
    curl -s $API/api/assets/{asset}/holders {auth}
    curl -s -X POST $API/api/distributions/calculate {auth} -H 'Content-Type: application/json' \\
      -d '{{"asset_id":"{asset}","cash_flow_event_id":"{seeded['cash_flow_event_id']}"}}'
      -> dora has no bank details: a blocking exception; fix it with
         POST /api/assets/{asset}/holders/import-csv (holder_id,account_number,bank_code)
      -> approve with the second demo key (read+approve), then GET .../payment-file
  check an event without sending it, in a browser: $API/validator""")
    return 0


if __name__ == "__main__":
    sys.exit(main())
