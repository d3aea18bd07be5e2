"""A bench-only Django setup: production settings and URLs plus two baselines.

`bench.server.settings` mounts `/bench/bare/` (the stack's ceiling: a constant JSON list)
and `/bench/drf/today/` (the `today` endpoint written the seed's way, with Django REST
framework and simplejwt). Nothing here is imported by production code.
"""
