"""Ensembles whose members run different servers: Paddock and Debian's Apache
ZooKeeper 3.8 side by side, as during a member-by-member migration."""

from ensemble import Cluster


def alternating(size):
    """Paddock on the odd server ids, ZooKeeper on the even ones."""
    return {sid: "paddock" if sid % 2 else "zookeeper" for sid in range(1, size + 1)}


class MixedCluster(Cluster):
    """A Cluster whose member `sid` runs the server `kinds[sid]` names
    ("paddock" or "zookeeper"); other arguments as Cluster's."""

    def __init__(self, kinds, root, **kwargs):
        super().__init__("zookeeper", len(kinds), root, **kwargs)
        self.kinds = kinds

    def start(self, sid):
        self.target = self.kinds[sid]
        super().start(sid)
