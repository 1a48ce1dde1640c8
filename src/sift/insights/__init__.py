"""What visitors do with search: the search log, click and conversion events, and the
reports built from them."""

from sift.insights.events import new_query_uid, parse_event
from sift.insights.searches import Analytics, Bucket, iso, pick_interval

__all__ = ["Analytics", "Bucket", "iso", "new_query_uid", "parse_event", "pick_interval"]
