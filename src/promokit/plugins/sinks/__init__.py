"""Built-in sinks for the outbox: signed webhooks (:mod:`.webhook`)."""
