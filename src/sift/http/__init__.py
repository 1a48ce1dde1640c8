"""HTTP layer: the ASGI app, one route module per resource, auth and error mapping."""
