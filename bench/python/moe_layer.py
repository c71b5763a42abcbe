#!/usr/bin/python3
"""PyTorch eager baselines of one mixture-of-experts layer step, for bench/moe_compare.sh.

The layer (the same as dev.metaforge.bench.MoeLayerMain): tokens x [N, d], a softmax top-k router
(gate weight [d, E], gates renormalised over the k choices), capacity C = ceil(f * N * k / E) per
expert with GShard priority (every token's first choice before any second choice, earlier
tokens first), E experts each a d -> h -> d ReLU MLP with biases, the load-balancing loss
0.01 * E * sum(f_i * P_i). One step = forward, loss = mean(y^2) + aux, backward to every
parameter (router and experts), loss read back with .item().

--impl naive   the per-expert loop of most reference code (e.g. Hugging Face Mixtral's sparse
               MoE block): experts as separate parameter sets (an nn.ModuleList); for each expert,
               find its kept tokens, gather them, run the expert (addmm, relu, addmm), index_add_
               the gated outputs back in place.
--impl einsum  the dense GShard / Mesh-TensorFlow formulation: one-hot dispatch and combine
               tensors [N, E, C] and einsums over them (no data-dependent shapes).

Prints ``RESULT workload=moe-E<E> backend=torch-<impl> steps_per_s=... steps_per_cpu_s=... tokens_per_s=...``
after --warmup seconds untimed and --seconds timed.
"""
import argparse
import math
import time

import torch
import torch.nn.functional as F


class Layer:
    def __init__(self, d, h, e, k, factor, n, gen):
        self.d, self.h, self.e, self.k = d, h, e, k
        self.capacity = max(1, min(n, math.ceil(factor * n * k / e - 1e-9)))
        b = 1 / math.sqrt(d)
        bh = 1 / math.sqrt(h)
        u = lambda shape, bound: ((torch.rand(*shape, generator=gen) * 2 - 1) * bound).requires_grad_()
        self.wg = u((d, e), b)
        self.w1 = u((e, d, h), b)
        self.b1 = u((e, h), b)
        self.w2 = u((e, h, d), bh)
        self.b2 = u((e, d), bh)
        self.params = [self.wg, self.w1, self.b1, self.w2, self.b2]
        # The naive loop keeps one parameter set per expert, as an nn.ModuleList of experts does:
        # indexing one stacked tensor per expert would make autograd add E full-size zero gradients.
        copy = lambda t: [t[i].detach().clone().requires_grad_() for i in range(e)]
        self.w1s, self.b1s, self.w2s, self.b2s = copy(self.w1), copy(self.b1), copy(self.w2), copy(self.b2)
        self.naive_params = [self.wg] + self.w1s + self.b1s + self.w2s + self.b2s

    def route(self, x):
        n = x.shape[0]
        probs = torch.softmax(x @ self.wg, dim=-1)                       # [N, E]
        top, idx = probs.topk(self.k, dim=-1)                           # [N, k]
        gates = top / top.sum(-1, keepdim=True)
        choice_major = idx.t().reshape(-1)                              # [k N]
        onehot = F.one_hot(choice_major, self.e)                        # [k N, E]
        rank = (onehot.cumsum(0) - 1).gather(1, choice_major[:, None])[:, 0]
        keep = (rank < self.capacity).view(self.k, n).t()               # [N, k]
        slot = rank.view(self.k, n).t()
        f = onehot.float().mean(0)
        aux = 0.01 * self.e * (f * probs.mean(0)).sum()
        return idx, gates * keep, keep, slot, aux

    def naive(self, x):
        idx, gates, keep, _, aux = self.route(x)
        y = torch.zeros_like(x)
        for e in range(self.e):
            tok, j = torch.where((idx == e) & keep)
            if tok.numel() == 0:
                continue
            hid = torch.relu(torch.addmm(self.b1s[e], x[tok], self.w1s[e]))
            out = torch.addmm(self.b2s[e], hid, self.w2s[e])
            y.index_add_(0, tok, out * gates[tok, j, None])
        return y, aux

    def einsum(self, x):
        idx, gates, keep, slot, aux = self.route(x)
        expert_hot = F.one_hot(idx, self.e).to(x.dtype)                            # [N, k, E]
        slot_hot = F.one_hot(slot.clamp(max=self.capacity - 1), self.capacity).to(x.dtype)  # [N, k, C]
        combine = torch.einsum('nke,nkc->nec', expert_hot * gates[..., None], slot_hot)
        dispatch = torch.einsum('nke,nkc->nec', expert_hot * keep[..., None].to(x.dtype), slot_hot)
        xe = torch.einsum('nec,nd->ecd', dispatch, x)
        hid = torch.relu(torch.einsum('ecd,edh->ech', xe, self.w1) + self.b1[:, None])
        out = torch.einsum('ech,ehd->ecd', hid, self.w2) + self.b2[:, None]
        return torch.einsum('nec,ecd->nd', combine, out), aux


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--impl', choices=['naive', 'einsum'], default='naive')
    p.add_argument('--experts', type=int, default=8)
    p.add_argument('--tokens', type=int, default=4096)
    p.add_argument('--dim', type=int, default=256)
    p.add_argument('--hidden', type=int, default=1024)
    p.add_argument('--k', type=int, default=2)
    p.add_argument('--capacity-factor', type=float, default=1.25)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--warmup', type=float, default=3)
    p.add_argument('--seconds', type=float, default=5)
    p.add_argument('--check', action='store_true', help='compare naive and einsum on one batch and exit')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    gen = torch.Generator().manual_seed(0)
    layer = Layer(a.dim, a.hidden, a.experts, a.k, a.capacity_factor, a.tokens, gen)
    x = torch.rand(a.tokens, a.dim, generator=gen) * 2 - 1
    if a.check:
        y1, _ = layer.naive(x)
        y2, _ = layer.einsum(x)
        print('max |naive - einsum| =', (y1 - y2).abs().max().item(), 'max |y| =', y1.abs().max().item(),
              'kept fraction', float(layer.route(x)[2].float().mean()))
        return
    forward = layer.naive if a.impl == 'naive' else layer.einsum
    params = layer.naive_params if a.impl == 'naive' else layer.params

    def step():
        for t in params:
            t.grad = None
        y, aux = forward(x)
        loss = y.square().mean() + aux
        loss.backward()
        return loss.item()

    # the warm-up of step_rate.py: at least --warmup seconds, then until two one-second windows agree within 5%
    from step_rate import rate
    wall, cpu, warmed_up, stable = rate(step, a.warmup, a.seconds)
    print('RESULT workload=moe-E%d backend=torch-%s steps_per_s=%.4f steps_per_cpu_s=%.4f tokens_per_s=%.1f threads=%d'
          ' warmup_s=%.1f stable=%s'
          % (a.experts, a.impl, wall, cpu, wall * a.tokens, a.threads, warmed_up, str(stable).lower()))


if __name__ == '__main__':
    main()
