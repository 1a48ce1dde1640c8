"""What visitors do with search: the search log and the reports built from it."""

from sift.insights.searches import Analytics, Bucket, iso, pick_interval

__all__ = ["Analytics", "Bucket", "iso", "pick_interval"]
