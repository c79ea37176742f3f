"""`make demo`: seed the running local stack with demo data and print what to try next.

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
    print(f"Seeded: asset {seeded['asset_id']} with holders {seeded['holders']}, cash-flow event "
          f"{seeded['cash_flow_event_id']}, lending book {seeded['lending_book']['events']} events "
          f"({seeded['lending_book']['stored']} new).")
    api, auth = args.url, f'-H "Authorization: Bearer {args.key}"'
    print(f"""
Try next (docs/distributions.md walks through the whole cycle):
  curl -s {api}/api/assets/{seeded['asset_id']}/holders {auth}
  curl -s "{api}/api/assets/{seeded['asset_id']}/positions?as_of=2025-03-31" {auth}
  curl -s -X POST {api}/api/distributions/calculate {auth} -H 'Content-Type: application/json' \\
    -d '{{"asset_id":"{seeded['asset_id']}","cash_flow_event_id":"{seeded['cash_flow_event_id']}"}}'
      -> dora has no bank details: a blocking exception; fix it with
         POST /api/assets/{seeded['asset_id']}/holders/import-csv (holder_id,account_number,bank_code)
      -> approve with the second demo key (read+approve), then GET .../payment-file
  curl -s {api}/api/tables/disbursements {auth}""")
    return 0


if __name__ == "__main__":
    sys.exit(main())
