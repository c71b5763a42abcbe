package dev.metaforge.api.optim;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Kernels;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.SgdResult;
import dev.metaforge.spi.SgdStep;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Stochastic gradient descent with optional momentum and L2 weight decay, matching
 * {@code torch.optim.SGD}: {@code buf = momentum * buf + (g + wd * p)}, {@code p -= lr * buf}
 * (the first step initialises {@code buf = g + wd * p}), through the backend's foreach
 * {@link Kernels#sgdUpdateForeach}: one call per step for all parameters, the momentum buffers
 * (owned by this optimizer) updated in place where the backend can. {@link #step} still returns
 * new parameters; {@link #state()}'s tensors are live (they change at the next step).
 */
public final class Sgd implements Optimizer {
    private final double learningRate;
    private final double momentum;
    private final double weightDecay;
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private long steps;

    public Sgd(double learningRate, double momentum, double weightDecay) {
        if (!(learningRate > 0)) {
            throw new IllegalArgumentException("learning rate must be > 0, got " + learningRate);
        }
        if (momentum < 0) {
            throw new IllegalArgumentException("momentum must be >= 0, got " + momentum);
        }
        this.learningRate = learningRate;
        this.momentum = momentum;
        this.weightDecay = weightDecay;
    }

    public static Sgd of(double learningRate) {
        return new Sgd(learningRate, 0.0, 0.0);
    }

    @Override
    public Params step(Params params, Params grads) {
        requireNonNull(params, "params is null");
        requireNonNull(grads, "grads is null");
        ForeachGroups.checkGradients(params, grads);
        steps++;
        SgdStep h = new SgdStep(learningRate, momentum, weightDecay);
        Map<String, Tensor> out = new LinkedHashMap<>();
        // One foreach call per engine (normally one): the backend may update the buffers in place.
        for (Map.Entry<Engine, List<String>> group : ForeachGroups.byEngine(params).entrySet()) {
            Engine engine = group.getKey();
            Kernels k = engine.kernels();
            List<NativeArray> ps = new ArrayList<>();
            List<NativeArray> gs = new ArrayList<>();
            List<NativeArray> bs = new ArrayList<>();
            for (String name : group.getValue()) {
                Tensor p = params.get(name);
                ps.add(p.nativeArray());
                gs.add(grads.get(name).nativeArray());
                if (momentum != 0) {
                    // a zero buffer makes the first step's buffer the gradient, as torch.optim.SGD's
                    bs.add(buffers.computeIfAbsent(name, n -> engine.wrapUnscoped(k.zeros(p.shape(), p.dtype()))).nativeArray());
                }
            }
            List<SgdResult> results = k.sgdUpdateForeach(ps, gs, bs, h);
            for (int i = 0; i < results.size(); i++) {
                String name = group.getValue().get(i);
                SgdResult r = results.get(i);
                if (momentum != 0) {
                    Tensor old = buffers.get(name);
                    if (old.nativeArray() != r.buffer()) {
                        old.close();
                        buffers.put(name, engine.wrapUnscoped(r.buffer()));
                    }
                }
                out.put(name, engine.wrapUnscoped(r.param()));
            }
        }
        Map<String, Tensor> ordered = new LinkedHashMap<>();
        params.names().forEach(n -> ordered.put(n, out.get(n)));
        return Params.of(ordered);
    }

    @Override
    public long steps() {
        return steps;
    }

    @Override
    public Params state() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        buffers.forEach((n, t) -> out.put("momentum/" + n, t));
        return Params.of(out);
    }

    @Override
    public void loadState(Params state, long stepCount) {
        close();
        for (String key : state.names()) {
            if (!key.startsWith("momentum/")) {
                throw new IllegalArgumentException("unknown SGD state entry '" + key + "'; expected momentum/<param>");
            }
            Tensor t = state.get(key);
            buffers.put(key.substring("momentum/".length()), t.engine().wrapUnscoped(t.engine().kernels().cast(t.nativeArray(), t.dtype())));
        }
        this.steps = stepCount;
    }

    @Override
    public void close() {
        buffers.values().forEach(Tensor::close);
        buffers.clear();
    }
}
