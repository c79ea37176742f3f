"""Memory of each function, in MB: one place, read by the stack and by the cost benchmark.

Lambda gives CPU in proportion to memory (one full vCPU at 1,769 MB) and bills memory times
duration. These functions spend most of an invocation waiting on DynamoDB or EventBridge, so
memory beyond what their own CPU time needs only raises the bill. The figures behind each
choice (own CPU time per invocation, measured by `python -m bench.cost`) are in
docs/performance.md.
"""

FUNCTION_MEMORY_MB = {
    "authorizer": 256,
    "ingest": 1024,
    "tables": 512,
    "worker": 512,
}
