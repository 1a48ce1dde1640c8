"""Several Sift nodes on one database: which node runs the task worker (a fenced lease)."""

from sift.cluster.lease import LeaseLost, WorkerLease, node_name

__all__ = ["LeaseLost", "WorkerLease", "node_name"]
