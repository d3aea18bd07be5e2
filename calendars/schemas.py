from ninja import Schema


class FeedOut(Schema):
    """The feed's secret URL: shown this once, since only its hash is kept."""

    url: str
