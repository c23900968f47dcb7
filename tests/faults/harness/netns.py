"""tests/faults/harness/netns.py — a private network for one cluster under test.

    hub namespace  <prefix>h        node namespaces  <prefix>1 .. <prefix>N
    +---------------------------+   +----------------------------+
    | br0 10.99.0.254/24        |   | eth0 10.99.0.I/24          |
    |  ├── v1 ═══ veth ═════════╪═══╪═ eth0 (node 1)             |
    |  ├── v2 ═══ veth ═══ ...  |   | nft table inet paxfs_faults|
    +---------------------------+   +----------------------------+

Every node lives in its own network namespace, joined to the others by a veth
pair on a bridge in a hub namespace (where paxfs-verify runs). Nothing is made
in the root network namespace, so several runs never collide and the machine's
own network is never touched. Faults between nodes are nftables rules inside
each node's namespace, on both ends of a link:

- cut:   packets to and from the peer are dropped (a black hole, as a pulled
         cable: TCP notices only through the daemon's heartbeats);
- loss:  a share of the packets to and from the peer is dropped at random
         (TCP retransmits: the link stays up, slow and bursty).

Invariant: the rules in force are exactly those of the last `apply()`; every
namespace this object made is deleted by `close()`, also after a failure
half-way through `up()`.
"""
import subprocess

SUBNET = "10.99.0"
PORT = 7100


def run(args, input=None, check=True):
    """Runs a command; raises with its stderr when it fails (check)."""
    p = subprocess.run(args, input=input, capture_output=True, text=True, timeout=30)
    if check and p.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(args), (p.stderr or p.stdout).strip()))
    return p


def addr(node):
    return "%s.%d" % (SUBNET, node)


class Net:
    def __init__(self, prefix, nodes):
        self.prefix = prefix
        self.nodes = list(nodes)
        self.hub = prefix + "h"
        self.made = []  # namespaces created, for close()
        # the faults in force: cut[(a, b)] for a < b; loss[(a, b)] = percent
        self.cut = set()
        self.loss = {}

    def ns(self, node):
        return "%s%d" % (self.prefix, node)

    def ns_path(self, node=None):
        return "/run/netns/" + (self.hub if node is None else self.ns(node))

    def up(self):
        run(["ip", "netns", "add", self.hub])
        self.made.append(self.hub)
        run(["ip", "-n", self.hub, "link", "set", "lo", "up"])
        run(["ip", "-n", self.hub, "link", "add", "br0", "type", "bridge"])
        run(["ip", "-n", self.hub, "addr", "add", addr(254) + "/24", "dev", "br0"])
        run(["ip", "-n", self.hub, "link", "set", "br0", "up"])
        for i in self.nodes:
            ns = self.ns(i)
            run(["ip", "netns", "add", ns])
            self.made.append(ns)
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
            run(["ip", "-n", self.hub, "link", "add", "v%d" % i, "type", "veth",
                 "peer", "name", "eth0", "netns", ns])
            run(["ip", "-n", self.hub, "link", "set", "v%d" % i, "master", "br0", "up"])
            run(["ip", "-n", ns, "addr", "add", addr(i) + "/24", "dev", "eth0"])
            run(["ip", "-n", ns, "link", "set", "eth0", "up"])
        self.apply()

    def close(self):
        for ns in reversed(self.made):
            run(["ip", "netns", "del", ns], check=False)
        self.made = []

    # ---- faults ----------------------------------------------------------

    @staticmethod
    def _key(a, b):
        return (a, b) if a < b else (b, a)

    def set_cut(self, a, b, on=True):
        (self.cut.add if on else self.cut.discard)(self._key(a, b))

    def set_loss(self, a, b, percent):
        if percent:
            self.loss[self._key(a, b)] = int(percent)
        else:
            self.loss.pop(self._key(a, b), None)

    def partition(self, groups):
        """Cuts every link between nodes of different groups (lists of ids);
        nodes in no group are cut from everyone."""
        where = {}
        for g, members in enumerate(groups):
            for m in members:
                where[m] = g
        self.cut = set()
        for a in self.nodes:
            for b in self.nodes:
                if a < b and (a not in where or b not in where or where[a] != where[b]):
                    self.cut.add((a, b))

    def heal(self):
        self.cut = set()
        self.loss = {}

    def describe(self):
        parts = ["%d-x-%d" % k for k in sorted(self.cut)]
        parts += ["%d~%d:%d%%" % (k[0], k[1], v) for k, v in sorted(self.loss.items())]
        return " ".join(parts) or "healed"

    def _ruleset(self, node):
        rules_in, rules_out = [], []
        for peer in self.nodes:
            if peer == node:
                continue
            k = self._key(node, peer)
            if k in self.cut:
                rules_in.append("ip saddr %s drop" % addr(peer))
                rules_out.append("ip daddr %s drop" % addr(peer))
            elif k in self.loss:
                p = self.loss[k]
                rules_in.append("ip saddr %s numgen random mod 100 < %d drop" % (addr(peer), p))
                rules_out.append("ip daddr %s numgen random mod 100 < %d drop" % (addr(peer), p))
        return ("table inet paxfs_faults\n"
                "delete table inet paxfs_faults\n"
                "table inet paxfs_faults {\n"
                "  chain in { type filter hook input priority 0; policy accept;\n%s  }\n"
                "  chain out { type filter hook output priority 0; policy accept;\n%s  }\n"
                "}\n") % ("".join("    %s\n" % r for r in rules_in),
                          "".join("    %s\n" % r for r in rules_out))

    def apply(self):
        """Puts the faults in force on every node (one atomic nft load each)."""
        for i in self.nodes:
            run(["ip", "netns", "exec", self.ns(i), "nft", "-f", "-"], input=self._ruleset(i))
