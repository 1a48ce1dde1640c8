"""Several Sift nodes: which node runs the task worker (a fenced lease), how nodes wake
each other (notify.py, Redis), and the /network topology (remotes, shards) that searches
with `useNetwork` span (network.py; fanout.py asks the nodes, federate.py and order.py
merge their answers; control.py takes the messages that steer a topology change)."""

from sift.cluster.lease import LeaseLost, WorkerLease, node_name
from sift.cluster.network import Network
from sift.cluster.topology import Remote, Topology

__all__ = ["LeaseLost", "Network", "Remote", "Topology", "WorkerLease", "node_name"]
