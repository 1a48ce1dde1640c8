"""Scale-out across nodes sharing one PostgreSQL (issue #14, part 4).

`python -m benchmarks network`: one reference node holding every document and N nodes
that each hold the shards /network gives them, all on one private PostgreSQL database.
It reports each node's RSS against the reference's, whether `useNetwork` searches answer
the same hits in the same order as the reference over a fixed, seeded query set, and the
median latency of a network search against a local one (same HTTP path, same run).
"""
