#!/usr/bin/python3
"""PyTorch eager twin of ``MetanetBenchMain gnn-step``: one training step of the graph metanetwork.

The same workload as the Java side: 32 networks of the MLP 8-32-32-4 (PyTorch-default init), their
parameter graph built from the weights every step (76 nodes, 1408 edges; node feature = bias, edge
feature = weight, the same node descriptors: role one-hot, permutable, depth, sin/cos of fixed
nodes' positions), the gnn metanetwork with hidden 32 and 3 layers written with the same equations
as dev.metaforge.plugins.metanet.GraphMetaNetwork — edge update, forward and backward messages, PNA
aggregation (mean and std with index_add_, max with scatter_reduce "amax", identity /
amplification / attenuation degree scalers), invariant head on mean/max node and mean edge pools —
mean squared error against fixed targets, Adam 1e-3, and the loss read back every step.

Prints ``RESULT workload=gnn backend=torch-eager steps_per_s=... steps_per_cpu_s=...`` after
``--warmup`` seconds untimed and ``--seconds`` timed.
"""
import argparse
import math
import time

import torch

SIZES = [8, 32, 32, 4]
BATCH = 32
HIDDEN = 32
LAYERS = 3


def graph_constants():
    sets = []  # (first node, size, role, depth)
    first = 0
    for i, s in enumerate(SIZES):
        role = 0 if i == 0 else (2 if i == len(SIZES) - 1 else 1)
        sets.append((first, s, role, i))
        first += s
    n = first
    src, dst = [], []
    for i in range(len(SIZES) - 1):
        a, b = sets[i], sets[i + 1]
        for u in range(a[1]):
            for v in range(b[1]):
                src.append(a[0] + u)
                dst.append(b[0] + v)
    desc = torch.zeros(n, 13)
    max_depth = len(SIZES) - 1
    for (f, s, role, depth) in sets:
        for j in range(s):
            row = desc[f + j]
            row[role] = 1
            row[3] = 1.0 if role == 1 else 0.0
            row[4] = depth / max_depth
            if role != 1:
                for k in range(4):
                    w = math.pi / 4 ** k
                    row[5 + 2 * k] = math.sin(w * j)
                    row[6 + 2 * k] = math.cos(w * j)
    src = torch.tensor(src)
    dst = torch.tensor(dst)
    edesc = torch.zeros(len(src), 2)
    edesc[:, 0] = 1
    return n, src, dst, desc, edesc


class Aggregation:
    def __init__(self, index, n):
        deg = torch.zeros(n).index_add_(0, index, torch.ones(len(index)))
        delta = max(1e-6, torch.log(deg + 1).mean().item())
        log = torch.log(deg + 1)
        self.index = index
        self.n = n
        self.inv = torch.where(deg > 0, 1 / deg.clamp(min=1), torch.zeros(n))[:, None, None]
        self.has = (deg > 0).float()[:, None, None]
        self.amp = (log / delta)[:, None, None]
        self.att = torch.where(deg > 0, delta / log.clamp(min=1e-12), torch.zeros(n))[:, None, None]

    def __call__(self, m):
        shape = (self.n,) + tuple(m.shape[1:])
        mean = torch.zeros(shape).index_add_(0, self.index, m) * self.inv
        sq = torch.zeros(shape).index_add_(0, self.index, m * m) * self.inv
        std = torch.sqrt(torch.relu(sq - mean * mean) + 1e-5) * self.has
        idx = self.index[:, None, None].expand_as(m)
        mx = torch.zeros(shape).scatter_reduce(0, idx, m, reduce="amax", include_self=False) * self.has
        agg = torch.cat([mean, mx, std], -1)
        return torch.cat([agg, agg * self.amp, agg * self.att], -1)


def linear(i, o, bias=True):
    return torch.nn.Linear(i, o, bias=bias)


class Gnn(torch.nn.Module):
    def __init__(self, n, src, dst, desc, edesc):
        super().__init__()
        d = HIDDEN
        self.src, self.dst, self.desc, self.edesc = src, dst, desc, edesc
        self.node_enc = linear(1 + 13, d)
        self.edge_enc = linear(1 + 2, d)
        self.layers = torch.nn.ModuleList()
        for _ in range(LAYERS):
            self.layers.append(torch.nn.ModuleDict(dict(
                es=linear(d, d, False), et=linear(d, d, False), eself=linear(d, d), eout=linear(d, d),
                fn=linear(d, d, False), fe=linear(d, d), bn=linear(d, d, False), be=linear(d, d),
                nh=linear(d + 18 * d, d), no=linear(d, d))))
        self.head_hidden = linear(3 * d, d)
        self.head_out = linear(d, 1)
        self.forward_agg = Aggregation(dst, n)
        self.backward_agg = Aggregation(src, n)

    def forward(self, nodes, edges):  # nodes [B, N, 1], edges [B, E, 1]
        b = nodes.shape[0]
        x = torch.cat([nodes.transpose(0, 1), self.desc[:, None, :].expand(-1, b, -1)], -1)
        h = torch.relu(self.node_enc(x))
        y = torch.cat([edges.transpose(0, 1), self.edesc[:, None, :].expand(-1, b, -1)], -1)
        e = torch.relu(self.edge_enc(y))
        for L in self.layers:
            hs = L["es"](h)[self.src]
            hd = L["et"](h)[self.dst]
            e = e + L["eout"](torch.relu(hs + hd + L["eself"](e)))
            mf = torch.relu(L["fn"](h)[self.src] + L["fe"](e))
            mb = torch.relu(L["bn"](h)[self.dst] + L["be"](e))
            u = torch.cat([h, self.forward_agg(mf), self.backward_agg(mb)], -1)
            h = h + L["no"](torch.relu(L["nh"](u)))
        pooled = torch.cat([h.mean(0), h.max(0).values, e.mean(0)], -1)
        return self.head_out(torch.relu(self.head_hidden(pooled)))


def zoo(gen):
    ws, bs = [], []
    for i in range(len(SIZES) - 1):
        bound = 1 / math.sqrt(SIZES[i])
        ws.append((torch.rand(BATCH, SIZES[i], SIZES[i + 1], generator=gen) * 2 - 1) * bound)
        bs.append((torch.rand(BATCH, SIZES[i + 1], generator=gen) * 2 - 1) * bound)
    return ws, bs


def to_graph(ws, bs):
    nodes = torch.cat([torch.zeros(BATCH, SIZES[0])] + bs, 1)[:, :, None]
    edges = torch.cat([w.reshape(BATCH, -1) for w in ws], 1)[:, :, None]
    return nodes, edges


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--warmup", type=float, default=3)
    p.add_argument("--seconds", type=float, default=5)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    gen = torch.Generator().manual_seed(0)
    n, src, dst, desc, edesc = graph_constants()
    net = Gnn(n, src, dst, desc, edesc)
    ws, bs = zoo(gen)
    target = torch.sin(torch.arange(BATCH, dtype=torch.float32))[:, None]
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        nodes, edges = to_graph(ws, bs)
        loss = ((net(nodes, edges) - target) ** 2).mean()
        loss.backward()
        opt.step()
        return loss.item()

    end = time.perf_counter() + a.warmup
    while time.perf_counter() < end:
        step()
    c0, t0 = time.thread_time(), time.perf_counter()
    steps = 0
    while True:
        step()
        steps += 1
        now = time.perf_counter()
        if now - t0 >= a.seconds:
            break
    cpu = time.thread_time() - c0
    print(f"RESULT workload=gnn backend=torch-eager steps_per_s={steps / (now - t0):.3f} steps_per_cpu_s={steps / cpu:.3f}")


if __name__ == "__main__":
    main()
