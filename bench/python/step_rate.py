#!/usr/bin/python3
"""PyTorch eager equivalents of dev.metaforge.bench.StepRateMain, for bench/compare.sh.

Prints one line ``RESULT workload=... backend=torch-<impl> steps_per_s=... steps_per_cpu_s=...`` after
``--warmup`` seconds of untimed steps and ``--seconds`` of timed ones: steps per second of wall
time, and per second of the stepping thread's CPU time (with one thread the kernels run on it,
so that rate leaves out the time a loaded machine gives to other processes). Every step reads
its loss back (``loss.item()``), as the Java side does.

Workloads (the same shapes, hyper-parameters and data sizes as the Java side):
  mlp     784-256-256-10 ReLU MLP, batch 128, softmax cross-entropy, Adam 1e-3.
  hyper   chunked hypernetwork (hypnettorch's ChunkedHMLP design): 66 chunk embeddings of 64,
          generator [context 8 ++ chunk 64] -> 256 -> 256 -> 4096 (ReLU), the flat output cut
          to the 269,322 parameters of the MLP above, which is then trained on the same batch
          through the generated weights with Adam 1e-3 on the hypernetwork's parameters.
  maml    MAML sinusoid meta-iteration, second order: 1-40-40-1 ReLU, K=10 support and 10
          query points per task, meta-batch 25, one inner SGD step of 0.01, Adam 1e-3.
  fomaml  the same, first order.
  cnn     Fashion-MNIST-sized CNN training step, batch 128 of [1, 28, 28]: conv 3x3 1->32 (pad 1),
          BatchNorm, ReLU, max-pool 2; conv 3x3 32->64 (pad 1), BatchNorm, ReLU, max-pool 2; flatten;
          linear 3136->10; softmax cross-entropy, Adam 1e-3 (BatchNorm in training mode).
  transformer  one pre-LN transformer block step: input [8, 128, 256] (batch 8, sequence 128,
          d 256), 4 heads, causal, MLP hidden 1024 with tanh-GELU, no dropout; loss = mean of
          squared outputs; Adam 1e-3.
  ghn     one graph-hypernetwork training step (Metaforge's ghn experiment, CNN space, as
          dev.metaforge.bench.GhnStep): GNN embed 32 over each CNN's computation graph (type table,
          shape features, one forward and one backward message sweep, h += tanh(m W)), LoGAH
          decoder 32 -> 64 (ReLU) -> rank-4 factors per tap of a 5x5 grid for up to 32 x 32
          channels, a linear bias head, weights and biases scaled by 1/sqrt(fan-in); it predicts all
          parameters of two CNNs per step (pairs alternate, the same four architectures as Java), runs
          them on a batch of 32 [1, 28, 28], and takes Adam 1e-3 on the mean cross-entropy.
          --check-against DIR compares it with Metaforge's step instead of timing: DIR from
          ``bench/run.sh StepRateMain --workload ghn --backend djl --dump DIR --dtype float64``
          (same initial parameters, batch and labels; graphs, predicted CNN parameters, losses,
          gradients and four Adam steps must agree, see check_ghn); exits 1 on a difference.
  gemm    the five matrix products of one hyper step, outside autograd: the generator's output
          layer (66 x 256 by 256 -> 4096, forward, weight and input gradients) and the target's
          first layer (128 x 784 by 784 -> 256, forward and weight gradient), as autograd runs them
          for torch.nn.Linear / addmm (StepRateMain's gemm runs Metaforge's own).
  adam    one torch.optim.Adam step on a [784, 256] weight with a fixed gradient (the optimizer
          part of mlp in isolation).

For maml/fomaml, --impl batched (default) adapts all 25 tasks at once with weight-batched
bmm (the same algorithm as Metaforge's, and the faster one in eager PyTorch); --impl loop is
the common per-task loop of MAML reference code.

Threads: --threads N calls torch.set_num_threads(N); set OMP_WAIT_POLICY=PASSIVE in the
environment before starting (compare.sh does) so idle OpenMP threads do not spin.
"""
import argparse
import json
import sys
import math
import time

import numpy as np
import torch
import torch.nn.functional as F

SIZES = [784, 256, 256, 10]
BATCH = 128


def mlp_data(gen):
    x = torch.rand(BATCH, SIZES[0], generator=gen)
    labels = torch.randint(0, SIZES[-1], (BATCH,), generator=gen)
    return x, labels


def mlp_workload(gen):
    x, labels = mlp_data(gen)
    net = torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 10))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(x), labels)
        loss.backward()
        opt.step()
        return loss.item()
    return step


class ChunkedHyperNetwork(torch.nn.Module):
    """Generates the flat parameter vector of the 784-256-256-10 MLP in chunks of 4096."""

    def __init__(self, context_size=8, chunk_size=4096, chunk_embedding=64, hidden=256):
        super().__init__()
        self.shapes = []
        for i in range(len(SIZES) - 1):
            self.shapes.append((SIZES[i], SIZES[i + 1]))  # weight [in, out], as x @ w
            self.shapes.append((SIZES[i + 1],))
        self.total = sum(math.prod(s) for s in self.shapes)
        self.chunks = -(-self.total // chunk_size)
        self.chunk_embeddings = torch.nn.Parameter(torch.randn(self.chunks, chunk_embedding))
        self.generator = torch.nn.Sequential(
            torch.nn.Linear(context_size + chunk_embedding, hidden), torch.nn.ReLU(),
            torch.nn.Linear(hidden, hidden), torch.nn.ReLU(),
            torch.nn.Linear(hidden, chunk_size))
        for m in self.generator:
            if isinstance(m, torch.nn.Linear):
                torch.nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
                torch.nn.init.zeros_(m.bias)

    def forward(self, context):
        inputs = torch.cat([context.expand(self.chunks, -1), self.chunk_embeddings], dim=1)
        flat = self.generator(inputs).reshape(-1)[:self.total]
        params, offset = [], 0
        for s in self.shapes:
            n = math.prod(s)
            params.append(flat[offset:offset + n].view(s))
            offset += n
        return params


def hyper_workload(gen):
    x, labels = mlp_data(gen)
    hyper = ChunkedHyperNetwork()
    context = torch.rand(8, generator=gen) * 2 - 1
    opt = torch.optim.Adam(hyper.parameters(), lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        w0, b0, w1, b1, w2, b2 = hyper(context)
        h = torch.relu(torch.addmm(b0, x, w0))
        h = torch.relu(torch.addmm(b1, h, w1))
        loss = F.cross_entropy(torch.addmm(b2, h, w2), labels)
        loss.backward()
        opt.step()
        return loss.item()
    return step


MIP_SIZES = [1, 32, 32, 1]


def mip_workload(gen):
    """The MIP loss-weighting toy (examples/mip-loss-weighting.json, MipExperiment's objective): 16 loss weights
    gamma x 64 points per step, drawn afresh each step; gamma encoded as [cos(pi gamma/2), sin(pi gamma/2)]; a
    2-64-64-P ReLU hypernetwork; theta = theta0 + H(E(gamma)) for a 1-32-32-1 ReLU target run as one weight batch;
    loss mean(gamma (g - sin x)^2 + (1 - gamma)(g - cos 2x)^2); Adam 1e-3 on H and theta0."""
    contexts, points = 16, 64
    layers = list(zip(MIP_SIZES[:-1], MIP_SIZES[1:]))
    count = sum(i * o + o for i, o in layers)
    hyper = torch.nn.Sequential(torch.nn.Linear(2, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64), torch.nn.ReLU(),
                                torch.nn.Linear(64, count))
    theta0 = torch.nn.Parameter(torch.randn(count, generator=gen) * 0.1)
    opt = torch.optim.Adam(list(hyper.parameters()) + [theta0], lr=1e-3)

    def step():
        gamma = torch.rand(contexts, 1, generator=gen)
        x = torch.rand(contexts, points, 1, generator=gen) * (2 * math.pi) - math.pi
        a, b = torch.sin(x), torch.cos(2 * x)
        w = gamma.unsqueeze(1)
        angle = gamma * (math.pi / 2)
        theta = theta0 + hyper(torch.cat([torch.cos(angle), torch.sin(angle)], -1))
        h, offset = x, 0
        for n, (fan_in, fan_out) in enumerate(layers):
            weight = theta[:, offset:offset + fan_in * fan_out].view(contexts, fan_in, fan_out)
            offset += fan_in * fan_out
            bias = theta[:, offset:offset + fan_out].view(contexts, 1, fan_out)
            offset += fan_out
            h = torch.baddbmm(bias, h, weight)
            if n < len(layers) - 1:
                h = torch.relu(h)
        loss = ((h - a).square() * w + (h - b).square() * (1 - w)).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()
    return step


def sinusoid_tasks(rng, tasks=25, k=10):
    """Finn et al.'s tasks: A in [0.1, 5], phase in [0, pi], x in [-5, 5]; [T, K, 1] each."""
    amplitude = rng.uniform(0.1, 5.0, size=(tasks, 1, 1))
    phase = rng.uniform(0, math.pi, size=(tasks, 1, 1))
    xs = rng.uniform(-5, 5, size=(tasks, k, 1))
    xq = rng.uniform(-5, 5, size=(tasks, k, 1))
    f = lambda a: torch.from_numpy(a).float()
    return f(xs), f(amplitude * np.sin(xs - phase)), f(xq), f(amplitude * np.sin(xq - phase))


def maml_params():
    params = []
    for i in range(3):
        fan_in, fan_out = [1, 40, 40, 1][i], [1, 40, 40, 1][i + 1]
        bound = 1 / math.sqrt(fan_in)
        params.append(torch.empty(fan_in, fan_out).uniform_(-bound, bound).requires_grad_())
        params.append(torch.empty(fan_out).uniform_(-bound, bound).requires_grad_())
    return params


def forward_batched(p, x):
    """p: [T, in, out] weights and [T, out] biases; x: [T, n, in]."""
    h = torch.relu(torch.baddbmm(p[1].unsqueeze(1), x, p[0]))
    h = torch.relu(torch.baddbmm(p[3].unsqueeze(1), h, p[2]))
    return torch.baddbmm(p[5].unsqueeze(1), h, p[4])


def forward_single(p, x):
    h = torch.relu(torch.addmm(p[1], x, p[0]))
    h = torch.relu(torch.addmm(p[3], h, p[2]))
    return torch.addmm(p[5], h, p[4])


def maml_workload(gen, second_order, impl):
    rng = np.random.default_rng(0)
    theta = maml_params()
    opt = torch.optim.Adam(theta, lr=1e-3)
    tasks = 25

    def step_batched():
        xs, ys, xq, yq = sinusoid_tasks(rng, tasks)
        phi = [p.expand(tasks, *p.shape) for p in theta]
        support = ((forward_batched(phi, xs) - ys) ** 2).mean(dim=(1, 2)).sum()
        grads = torch.autograd.grad(support, phi, create_graph=second_order)
        adapted = [p - 0.01 * g for p, g in zip(phi, grads)]
        loss = ((forward_batched(adapted, xq) - yq) ** 2).mean(dim=(1, 2)).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    def step_loop():
        xs, ys, xq, yq = sinusoid_tasks(rng, tasks)
        total = 0.0
        for t in range(tasks):
            support = F.mse_loss(forward_single(theta, xs[t]), ys[t])
            grads = torch.autograd.grad(support, theta, create_graph=second_order)
            adapted = [p - 0.01 * g for p, g in zip(theta, grads)]
            total = total + F.mse_loss(forward_single(adapted, xq[t]), yq[t])
        loss = total / tasks
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    return step_batched if impl == 'batched' else step_loop


def matmul_gflops(n=512, reps=20):
    """A quick probe that Debian's torch found OpenBLAS rather than the reference BLAS."""
    a, b = torch.rand(n, n), torch.rand(n, n)
    a @ b
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n ** 3 * reps / (time.perf_counter() - start) / 1e9


def cnn_workload(gen):
    x = torch.rand(BATCH, 1, 28, 28, generator=gen)
    labels = torch.randint(0, 10, (BATCH,), generator=gen)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.BatchNorm2d(32), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.BatchNorm2d(64), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(64 * 7 * 7, 10))
    net.train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(x), labels)
        loss.backward()
        opt.step()
        return loss.item()
    return step


class PreLnBlock(torch.nn.Module):
    """x + attn(ln1(x)); x + mlp(ln2(x)): the same block as Metaforge's transformer-block."""

    def __init__(self, d=256, heads=4, hidden=1024):
        super().__init__()
        self.heads = heads
        self.ln1 = torch.nn.LayerNorm(d)
        self.ln2 = torch.nn.LayerNorm(d)
        self.q = torch.nn.Linear(d, d)
        self.k = torch.nn.Linear(d, d)
        self.v = torch.nn.Linear(d, d)
        self.o = torch.nn.Linear(d, d)
        self.fc1 = torch.nn.Linear(d, hidden)
        self.fc2 = torch.nn.Linear(hidden, d)

    def attention(self, x):
        n, t, d = x.shape
        h = self.heads

        def split(z):
            return z.view(n, t, h, d // h).transpose(1, 2)
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d // h)
        mask = torch.ones(t, t, dtype=torch.bool).triu(1)
        scores = scores.masked_fill(mask, float('-inf'))
        out = torch.softmax(scores, dim=-1) @ v
        return self.o(out.transpose(1, 2).reshape(n, t, d))

    def forward(self, x):
        x = x + self.attention(self.ln1(x))
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x)), approximate='tanh'))


def transformer_workload(gen):
    x = torch.randn(8, 128, 256, generator=gen)
    block = PreLnBlock()
    opt = torch.optim.Adam(block.parameters(), lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = block(x).square().mean()
        loss.backward()
        opt.step()
        return loss.item()
    return step


def gemm_workload(gen):
    """The products of hyper_workload's generator output layer and target first layer, as autograd runs them."""
    def u(*shape):
        return torch.rand(*shape, generator=gen) * 0.1 - 0.05
    hidden, out_weight, out_bias, chunk_grad = u(66, 256), u(4096, 256), u(4096), u(66, 4096)  # nn.Linear: [out, in]
    x, first_weight, first_bias, first_grad = u(128, 784), u(784, 256), u(256), u(128, 256)    # addmm(b, x, w)

    def step():
        torch.addmm(out_bias, hidden, out_weight.t())
        chunk_grad.t().mm(hidden)      # AddmmBackward0: grad of W [out, in]
        chunk_grad.mm(out_weight)      # grad of the input
        torch.addmm(first_bias, x, first_weight)
        x.t().mm(first_grad)           # grad of w [in, out]
        return 0.0
    return step


def adam_workload(gen):
    """One torch.optim.Adam step on a [784, 256] weight with a fixed gradient."""
    bound = 1 / math.sqrt(784)
    weight = torch.nn.Parameter(torch.rand(784, 256, generator=gen) * 2 * bound - bound)
    weight.grad = torch.rand(784, 256, generator=gen) * 2e-3 - 1e-3
    opt = torch.optim.Adam([weight], lr=1e-3)

    def step():
        opt.step()
        return 0.0
    return step


# ---- ghn: the graph hypernetwork of dev.metaforge.plugins.hyper.ghn, written out in PyTorch ----
GHN_KINDS = ["input", "linear", "conv2d", "batchnorm", "layernorm", "activation", "pool", "flatten", "dropout",
             "residual", "identity", "relu", "tanh", "sigmoid", "leaky_relu", "softplus", "sin"]
GHN_EMBED, GHN_HIDDEN, GHN_RANK, GHN_GRID, GHN_MAX_OUT, GHN_MAX_IN, GHN_MAX_BIAS = 32, 64, 4, 5, 32, 32, 32
GHN_BATCH, GHN_CLASSES = 32, 10
# (channels, kernels stem first, residual): GhnStep.ARCHITECTURES.
GHN_ARCHS = [(16, [3, 3], False), (8, [5, 3, 3], True), (32, [3, 5], True), (16, [5, 3, 5, 3], False)]


def ghn_graph(channels, kernels, residual, image=(1, 28, 28)):
    """Nodes (type, weight shape or None, bias length or None) and edges, as ComputationGraph.of builds them."""
    nodes = [(GHN_KINDS.index("input"), None, None)]
    edges = []

    def add(kind, weight=None, bias=None, inputs=()):
        nodes.append((GHN_KINDS.index(kind), weight, bias))
        for u in inputs:
            edges.append((u, len(nodes) - 1))
        return len(nodes) - 1
    last = add("conv2d", (channels, image[0], kernels[0], kernels[0]), channels, [0])
    last = add("relu", inputs=[last])
    for k in kernels[1:]:
        stream = last
        conv = add("conv2d", (channels, channels, k, k), channels, [stream])
        last = add("relu", inputs=[conv])
        if residual:
            last = add("residual", inputs=[last, stream])
    last = add("pool", inputs=[last])
    last = add("flatten", inputs=[last])
    add("linear", (channels, GHN_CLASSES), GHN_CLASSES, [last])
    return nodes, edges


def ghn_features(weight):
    if weight is None:
        return [0.0, 0.0, 0.0]
    fan = 1
    for d in weight[1:]:
        fan *= d
    return [math.log1p(weight[0]), math.log1p(fan), float(weight[3]) if len(weight) == 4 else 1.0]


class Ghn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        e = GHN_EMBED
        types = len(GHN_KINDS) + 1
        self.type_table = torch.nn.Parameter(torch.randn(types, e) / math.sqrt(e))
        self.shape_proj = torch.nn.Parameter(torch.randn(3, e) / math.sqrt(e))
        self.fwd = torch.nn.Parameter(torch.randn(e, e) / math.sqrt(e))
        self.bwd = torch.nn.Parameter(torch.randn(e, e) / math.sqrt(e))
        taps = GHN_GRID * GHN_GRID
        self.dec = torch.nn.Sequential(torch.nn.Linear(e, GHN_HIDDEN), torch.nn.ReLU(),
                                       torch.nn.Linear(GHN_HIDDEN, GHN_RANK * taps * (GHN_MAX_OUT + GHN_MAX_IN)))
        self.bias = torch.nn.Parameter((torch.rand(e, GHN_MAX_BIAS) * 2 - 1) / math.sqrt(e))

    def encode(self, nodes, edges, feats):
        n = len(nodes)
        types = torch.tensor([t for t, _, _ in nodes])
        h0 = self.type_table[types] + feats @ self.shape_proj
        h = [h0[i:i + 1] for i in range(n)]
        preds = [[u for u, v in edges if v == i] for i in range(n)]
        succs = [[v for u, v in edges if u == i] for i in range(n)]
        for v in range(n):
            if preds[v]:
                h[v] = h[v] + torch.tanh(sum(h[u] for u in preds[v]) @ self.fwd)
        for v in range(n - 1, -1, -1):
            if succs[v]:
                h[v] = h[v] + torch.tanh(sum(h[u] for u in succs[v]) @ self.bwd)
        return h

    def decode(self, e, rows, cols, k):
        g, r, taps = GHN_GRID, GHN_RANK, GHN_GRID * GHN_GRID
        f = self.dec(e).reshape(-1)
        a_size = r * taps * GHN_MAX_OUT
        off = (g - k) // 2
        a = f[:a_size].reshape(g, g, GHN_MAX_OUT, r)[off:off + k, off:off + k, :rows].reshape(k * k, rows, r)
        b = f[a_size:].reshape(g, g, GHN_MAX_IN, r)[off:off + k, off:off + k, :cols].reshape(k * k, cols, r)
        w = a @ b.transpose(1, 2)
        return w.reshape(rows, cols) if k == 1 else w.permute(1, 2, 0).reshape(rows, cols, k, k)

    def predict(self, nodes, edges, feats):
        h = self.encode(nodes, edges, feats)
        out = []
        for i, (t, weight, bias) in enumerate(nodes):
            if weight is None:
                continue
            fan = weight[0] if len(weight) == 2 else weight[1] * weight[2] * weight[3]
            k = 1 if len(weight) == 2 else weight[2]
            w = self.decode(h[i], weight[0], weight[1], k) / math.sqrt(fan)
            b = (h[i] @ self.bias[:, :bias]).reshape(bias) / math.sqrt(fan)
            out.append((w, b))
        return out


def ghn_forward(params, kernels, residual, x):
    (w, b), rest = params[0], params[1:]
    h = torch.relu(F.conv2d(x, w, b, stride=2, padding=kernels[0] // 2))
    for (w, b), k in zip(rest[:-1], kernels[1:]):
        y = torch.relu(F.conv2d(h, w, b, padding=k // 2))
        h = h + y if residual else y
    w, b = rest[-1]
    return torch.addmm(b, h.mean(dim=(2, 3)), w)


def ghn_graphs(dtype=torch.float32):
    """(nodes, edges, shape features, kernels, residual) of each architecture of GHN_ARCHS."""
    graphs = []
    for channels, kernels, residual in GHN_ARCHS:
        nodes, edges = ghn_graph(channels, kernels, residual)
        feats = torch.tensor([ghn_features(w) for _, w, _ in nodes], dtype=dtype)
        graphs.append((nodes, edges, feats, kernels, residual))
    return graphs


def ghn_loss(ghn, graphs, x, labels, step, per_arch=None):
    """Step ``step``'s mean cross-entropy over its two architectures (pairs alternate, as GhnStep.step)."""
    total = 0
    for i in range(2):
        nodes, edges, feats, kernels, residual = graphs[(step * 2 + i) % len(graphs)]
        loss = F.cross_entropy(ghn_forward(ghn.predict(nodes, edges, feats), kernels, residual, x), labels)
        if per_arch is not None:
            per_arch.append(loss.item())
        total = total + loss
    return total / 2


def ghn_workload(gen):
    x = torch.rand(GHN_BATCH, 1, 28, 28, generator=gen)
    labels = torch.randint(0, GHN_CLASSES, (GHN_BATCH,), generator=gen)
    ghn = Ghn()
    graphs = ghn_graphs()
    print(f'ghn: {sum(p.numel() for p in ghn.parameters())} parameters')
    return ghn_stepper(ghn, graphs, x, labels)


def ghn_stepper(ghn, graphs, x, labels):
    opt = torch.optim.Adam(ghn.parameters(), lr=1e-3)
    count = [0]

    def step():
        opt.zero_grad(set_to_none=True)
        loss = ghn_loss(ghn, graphs, x, labels, count[0])
        loss.backward()
        opt.step()
        count[0] += 1
        return loss.item()
    return step


# Metaforge's GHN parameter names (GraphHyperNetwork.init) -> this Ghn's, and whether the layout is
# transposed: Metaforge's linear weights are [in, out], torch.nn.Linear's [out, in].
GHN_NAMES = {'type': ('type_table', False), 'shape': ('shape_proj', False), 'fwd': ('fwd', False), 'bwd': ('bwd', False),
             'dec.0.weight': ('dec.0.weight', True), 'dec.0.bias': ('dec.0.bias', False),
             'dec.1.weight': ('dec.2.weight', True), 'dec.1.bias': ('dec.2.bias', False), 'bias.weight': ('bias', False)}
# Relative differences accepted by --check-against, by the dump's dtype: (loss and predicted
# parameters, gradients, losses after Adam steps). See check_ghn.
GHN_TOLERANCE = {'FLOAT32': (1e-5, 1e-4, 1e-4), 'FLOAT64': (1e-12, 1e-10, 1e-10)}


def read_safetensors(path):
    """The tensors of a safetensors file in file order (F32, F64, I64 only): an 8-byte little-endian
    header length, a JSON header {name: {dtype, shape, data_offsets}}, then the little-endian data."""
    with open(path, 'rb') as f:
        data = f.read()
    n = int.from_bytes(data[:8], 'little')
    header = json.loads(data[8:8 + n])
    header.pop('__metadata__', None)
    types = {'F32': np.float32, 'F64': np.float64, 'I64': np.int64}
    out = {}
    for name, e in sorted(header.items(), key=lambda kv: kv[1]['data_offsets'][0]):
        lo, hi = e['data_offsets']
        t = np.dtype(types[e['dtype']]).newbyteorder('<')
        out[name] = torch.from_numpy(np.frombuffer(data, t, (hi - lo) // t.itemsize, 8 + n + lo).astype(t.newbyteorder('=')))
        out[name] = out[name].reshape(e['shape'])
    return out


def rel(a, b):
    """max |a - b| / max |b|: the difference relative to the reference tensor's scale."""
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-300)).item()


def check_ghn(directory):
    """Compares this file's Ghn with Metaforge's GhnStep on the dump of
    ``bench/run.sh StepRateMain --workload ghn --dump DIR [--dtype float64]``: the same initial
    parameters (GHN_NAMES), batch and labels; the computation graphs; the predicted CNN parameters,
    per-pair losses and gradients at the initial parameters; the losses of the first Adam steps.
    Exits 1 when a relative difference exceeds GHN_TOLERANCE for the dump's dtype. Those bounds:
    float32 rounds at 6e-8 relative, and a loss sums a few thousand rounded terms in an order that
    differs between the two libraries (convolution and matmul kernels, softmax), so a few 1e-7 is
    expected and 1e-5 leaves a margin of 10-100 while any modelling difference (a transposed factor,
    a feature, a scale) moves the loss by 1e-3 or more. Gradients go through one more such sum and
    are compared to their tensor's largest entry (1e-4). After an Adam step differences grow: an
    entry whose gradient is near zero moves by up to lr * g / (|g| + eps), so rounding in g moves it
    by up to lr in float32 (1e-4 on the loss). float64 rounds at 1e-16; the same argument gives the
    float64 bounds 1e-12 and 1e-10."""
    meta = json.load(open(f'{directory}/ghn.json'))
    tol_loss, tol_grad, tol_steps = GHN_TOLERANCE[meta['dtype']]
    java = read_safetensors(f'{directory}/params.safetensors')
    data = read_safetensors(f'{directory}/data.safetensors')
    dtype = java['type'].dtype
    ghn = Ghn().to(dtype)
    ours = dict(ghn.named_parameters())
    if sorted(java) != sorted(GHN_NAMES) or len(ours) != len(GHN_NAMES):
        sys.exit(f'parameter names differ: Metaforge {sorted(java)}, PyTorch {sorted(ours)}')
    with torch.no_grad():
        for name, (py, transposed) in GHN_NAMES.items():
            ours[py].copy_(java[name].t() if transposed else java[name])
    x, labels = data['x'], data['y'].argmax(dim=1)
    graphs = ghn_graphs(dtype)
    print(f'ghn check against {directory}: Metaforge {meta["backend"]}, {meta["dtype"]}, {meta["parameters"]} parameters; '
          f'PyTorch {sum(p.numel() for p in ghn.parameters())}')
    for arch, (nodes, edges, _, _, _) in zip(meta['architectures'], graphs):
        theirs = [(n['type'], tuple(n['weight']) if n['weight'] else None, n['bias'][0] if n['bias'] else None)
                  for n in arch['nodes']]
        if theirs != nodes or [tuple(e) for e in arch['edges']] != edges:
            sys.exit(f'computation graph of {arch["name"]} differs:\n Metaforge {theirs} {arch["edges"]}\n PyTorch   {nodes} {edges}')
    print(f'  graphs: the same nodes (type, weight, bias shapes) and edges for all {len(graphs)} architectures')
    worst = {'predicted': 0.0, 'loss': 0.0, 'gradient': 0.0, 'steps': 0.0}
    with torch.no_grad():
        for a, (nodes, edges, feats, _, _) in enumerate(graphs):
            predicted = [t for wb in ghn.predict(nodes, edges, feats) for t in wb]
            theirs = list(read_safetensors(f'{directory}/predicted-arch{a}.safetensors').values())
            if [tuple(t.shape) for t in predicted] != [tuple(t.shape) for t in theirs]:
                sys.exit(f'predicted parameter shapes of {meta["architectures"][a]["name"]} differ')
            d = max(rel(p, t) for p, t in zip(predicted, theirs))
            worst['predicted'] = max(worst['predicted'], d)
            print(f'  predicted parameters of {meta["architectures"][a]["name"]:22}: max relative difference {d:.2e}')
    for p, pair in enumerate(meta['pairs']):
        ghn.zero_grad(set_to_none=True)
        per_arch = []
        loss = ghn_loss(ghn, graphs, x, labels, p, per_arch)
        loss.backward()
        d_loss = max(rel(loss.item(), pair['loss']), *(rel(o, t) for o, t in zip(per_arch, pair['architectures'])))
        grads = read_safetensors(f'{directory}/grads-pair{p}.safetensors')
        d_grad = {name: rel(ours[py].grad.t() if transposed else ours[py].grad, grads[name])
                  for name, (py, transposed) in GHN_NAMES.items()}
        worst['loss'] = max(worst['loss'], d_loss)
        worst['gradient'] = max(worst['gradient'], max(d_grad.values()))
        print(f'  pair {p}: loss Metaforge {pair["loss"]:.10f} PyTorch {loss.item():.10f} (per architecture '
              f'{", ".join(f"{o:.8f}" for o in per_arch)}), max relative difference {d_loss:.2e}; '
              f'gradients {", ".join(f"{n} {v:.1e}" for n, v in d_grad.items())}')
    step = ghn_stepper(ghn, graphs, x, labels)
    for i, theirs in enumerate(meta['steps']):
        loss = step()
        worst['steps'] = max(worst['steps'], rel(loss, theirs))
        print(f'  Adam step {i}: loss Metaforge {theirs:.10f} PyTorch {loss:.10f}, relative difference {rel(loss, theirs):.2e}')
    tolerance = {'predicted': tol_loss, 'loss': tol_loss, 'gradient': tol_grad, 'steps': tol_steps}
    bad = [k for k in worst if not worst[k] <= tolerance[k]]
    print(f'CHECK ghn {meta["dtype"].lower()}: max relative difference '
          + ', '.join(f'{k} {v:.2e} (tolerance {tolerance[k]:.0e})' for k, v in worst.items())
          + (': FAILED (' + ', '.join(bad) + ')' if bad else ': ok'))
    return not bad


def rate(step, warmup, seconds):
    """Steps per second of wall time and of this thread's CPU time after a warm-up that runs at least
    ``warmup`` seconds and until two consecutive one-second windows agree within 5% (see StepRateMain.rate)."""
    begin = time.perf_counter()
    end = begin + warmup
    while time.perf_counter() < end:
        step()
    limit = begin + max(4 * warmup, warmup + 10)
    previous, stable = float('nan'), False
    while not stable and time.perf_counter() < limit:
        c0, w_end, n = time.thread_time(), time.perf_counter() + 1.0, 0
        while time.perf_counter() < w_end:
            step()
            n += 1
        window = n / max(1e-9, time.thread_time() - c0)
        stable = abs(window - previous) <= 0.05 * max(window, previous)
        previous = window
    warmed_up = time.perf_counter() - begin
    cpu_start = time.thread_time()
    start = time.perf_counter()
    end = start + seconds
    steps = 0
    while True:
        loss = step()
        if not math.isfinite(loss):
            raise RuntimeError(f'the loss is {loss}: the benchmark diverged')
        steps += 1
        now = time.perf_counter()
        if now >= end:
            return steps / (now - start), steps / (time.thread_time() - cpu_start), warmed_up, stable


def count_ops(step, steps=5):
    """Outermost ATen operators per step (forward, backward and optimizer), as dispatched from Python
    or the autograd engine; calls nested in another operator (aten::linear -> aten::addmm) are not
    counted again."""
    for _ in range(3):
        step()
    with torch.autograd.profiler.profile() as prof:
        for _ in range(steps):
            step()
    def outermost_aten(e):
        parent = e.cpu_parent
        while parent is not None:
            if parent.name.startswith('aten::'):
                return False
            parent = parent.cpu_parent
        return e.name.startswith('aten::')
    top = [e for e in prof.function_events if outermost_aten(e)]
    counts = {}
    for e in top:
        counts[e.name] = counts.get(e.name, 0) + 1
    print(f'OPS per step: {len(top) / steps:.1f} outermost aten operators')
    for name, n in sorted(counts.items(), key=lambda kv: -kv[1])[:25]:
        print(f'  {name:40} {n / steps:8.1f}')


def profile_ops(step, steps=100):
    """Where a PyTorch step spends its CPU time: torch.profiler's table of operators by self CPU time over
    ``steps`` steps after a warm-up (the counterpart of KernelProfileMain; the profiler adds its own overhead)."""
    for _ in range(20):
        step()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    print(f'PROFILE over {steps} steps (divide the totals by {steps} for one step):')
    print(prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=20))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--workload', required=True, choices=['mlp', 'hyper', 'gemm', 'maml', 'fomaml', 'adam', 'cnn', 'transformer', 'ghn', 'mip'])
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--impl', choices=['batched', 'loop'], default='batched')
    ap.add_argument('--warmup', type=float, default=3)
    ap.add_argument('--seconds', type=float, default=5)
    ap.add_argument('--flush-denormal', action='store_true',
                    help='torch.set_flush_denormal(True): subnormal floats read and written as zero (the default is IEEE)')
    ap.add_argument('--profile', action='store_true',
                    help="print torch.profiler's operator table (self CPU time) over 100 steps instead of timing")
    ap.add_argument('--count-ops', action='store_true',
                    help='instead of timing, print the operators one step dispatches (autograd profiler)')
    ap.add_argument('--check-against', metavar='DIR',
                    help='ghn only: instead of timing, compare with the Metaforge dump in DIR (see check_ghn) and exit 1 on a difference')
    a = ap.parse_args()
    if a.check_against:
        if a.workload != 'ghn':
            sys.exit('--check-against is for --workload ghn')
        torch.set_num_threads(a.threads)
        sys.exit(0 if check_ghn(a.check_against) else 1)
    torch.set_num_threads(a.threads)
    if a.flush_denormal and not torch.set_flush_denormal(True):
        sys.exit('--flush-denormal: this CPU does not support flushing denormals (torch.set_flush_denormal returned False)')
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(7)
    if a.workload == 'mlp':
        step = mlp_workload(gen)
    elif a.workload == 'hyper':
        step = hyper_workload(gen)
    elif a.workload == 'gemm':
        step = gemm_workload(gen)
    elif a.workload == 'adam':
        step = adam_workload(gen)
    elif a.workload == 'cnn':
        step = cnn_workload(gen)
    elif a.workload == 'transformer':
        step = transformer_workload(gen)
    elif a.workload == 'ghn':
        step = ghn_workload(gen)
    elif a.workload == 'mip':
        step = mip_workload(gen)
    else:
        step = maml_workload(gen, a.workload == 'maml', a.impl)
    impl = a.impl if a.workload in ('maml', 'fomaml') else 'eager'
    print(f'torch {torch.__version__}, threads {torch.get_num_threads()}, '
          f'512x512 matmul {matmul_gflops():.0f} GFLOP/s (reference BLAS gives about 6: '
          f'install libopenblas0-openmp)')
    if a.profile:
        profile_ops(step)
        return
    if a.count_ops:
        count_ops(step)
        return
    wall, cpu, warmed_up, stable = rate(step, a.warmup, a.seconds)
    print(f'RESULT workload={a.workload} backend=torch-{impl}-t{a.threads} steps_per_s={wall:.3f} '
          f'steps_per_cpu_s={cpu:.3f} warmup_s={warmed_up:.1f} stable={str(stable).lower()}')


if __name__ == '__main__':
    main()
