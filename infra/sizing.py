"""Memory of each function, in MB: one place, read by the stack and by the cost benchmark.

Lambda gives CPU in proportion to memory (one full vCPU at 1,769 MB) and bills memory times
duration. Measured with `python -m bench.cost` (own CPU time per warm invocation, outside AWS
calls; docs/performance.md): authorizer 0.4 ms for one GetItem, ingest 2.6 ms for four
DynamoDB calls, worker about 1 ms per stream record for two or three calls. Every function
spends most of its time waiting on DynamoDB or EventBridge, so memory beyond what its own CPU
time and its cold start need only raises the bill:

- authorizer 256 MB: it precedes every uncached request, so its cold start must stay short;
  its warm work is one GetItem.
- ingest 512 MB (was 1024): 2.6 ms of CPU becomes about 9 ms at 512 MB, next to ~36 ms of
  DynamoDB round trips; half the GB-seconds. 512 MB keeps the cold start (importing pydantic
  and Powertools) well under a second of extra latency for the partner.
- tables 512 MB: pages of up to 500 items are serialised in the function (`bench/reads.py`).
- webhooks and webhook_delivery 256 MB: a few DynamoDB calls, then waiting on a DNS answer or a
  subscriber; nobody waits on a delivery's latency.
- worker 256 MB (was 512): asynchronous, nobody waits on its latency; about 1 ms of CPU per
  record becomes 7 ms at 256 MB, next to ~28 ms of round trips per record.
"""

FUNCTION_MEMORY_MB = {
    "authorizer": 256,
    "ingest": 512,
    "tables": 512,
    "worker": 256,
    "webhooks": 256,
    "webhook_delivery": 256,
}
