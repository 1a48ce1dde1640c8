"""`python -m benchmarks clicks`: ranking that learns from clicks, measured on simulated
visitors (docs/ranking.md#clicks, docs/benchmarks.md).

No real click log exists here, so visitors are simulated the standard way: from each
collection's judgements, users issue the test queries, see Sift's ranking and click with
a position-biased cascade model, through a real server's search API and `POST /events`.
nDCG@10 is then measured on the same queries in later sessions, on queries never clicked,
and after sessions whose every click is random noise."""
