"""The results service: the exactly-once tally worker (outbox → counts → checked,
versioned snapshots) and the read side that serves those snapshots from memory.

    domain (pure)   counts.py  rounding.py  snapshot.py  invariants.py
    adapters        tally_db.py  snapshots_db.py  redis_store.py  receipts.py
    use cases       publisher.py  recount.py  worker.py
    read side       cache.py  stream.py  handlers.py  public.py
    wiring          settings.py  metrics.py  app.py
"""
