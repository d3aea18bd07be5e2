"""A bench-only Django setup: production settings and URLs plus three baselines.

`bench.server.settings` mounts `/bench/bare/` (the stack's ceiling: a constant JSON list),
`/bench/write/<id>/` (the write ceiling: POST runs one raw UPDATE of the instance in its own
transaction and answers the row) and `/bench/drf/today/` (the `today` endpoint written the
seed's way, with Django REST framework and simplejwt). Nothing here is imported by
production code.
"""
