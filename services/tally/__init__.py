"""The counting authority: the only writer of counts, snapshots and the results chain.

It turns the vote service's outbox into counts exactly once, builds and checks every
snapshot, appends it to the Postgres chain and copies it to Redis. It runs inside the
results process on a small host (RESULTS_RUN_TALLY) or alone (`ballotline tally run`);
both start it through `services.tally.service.running_tally`.
"""
