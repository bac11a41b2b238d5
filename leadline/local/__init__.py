"""The local stack: moto, the Chalice app, the event-source mappings and persistence, in one process."""
