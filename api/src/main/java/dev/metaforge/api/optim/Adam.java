package dev.metaforge.api.optim;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.AdamResult;
import dev.metaforge.spi.AdamStep;
import dev.metaforge.spi.Kernels;
import dev.metaforge.spi.NativeArray;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Adam (Kingma and Ba 2015) and AdamW (Loshchilov and Hutter 2019, decoupled weight decay),
 * through the backend's foreach {@link Kernels#adamUpdateForeach}: one call per step for all
 * parameters, the moments (owned by this optimizer) updated in place where the backend can
 * (per-parameter {@link Kernels#adamUpdate} by default). {@link #step} still returns new parameters.
 * Matches {@code torch.optim.Adam}/{@code AdamW} (epsilon added after the square root).
 */
public final class Adam implements Optimizer {
    private final double learningRate;
    private final double beta1;
    private final double beta2;
    private final double epsilon;
    private final double weightDecay;
    private final boolean decoupled;
    private final Map<String, Tensor> m = new LinkedHashMap<>();
    private final Map<String, Tensor> v = new LinkedHashMap<>();
    private long steps;

    public Adam(double learningRate, double beta1, double beta2, double epsilon, double weightDecay, boolean decoupled) {
        if (!(learningRate > 0)) {
            throw new IllegalArgumentException("learning rate must be > 0, got " + learningRate);
        }
        if (beta1 < 0 || beta1 >= 1 || beta2 < 0 || beta2 >= 1) {
            throw new IllegalArgumentException("betas must be in [0, 1), got " + beta1 + ", " + beta2);
        }
        this.learningRate = learningRate;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
        this.weightDecay = weightDecay;
        this.decoupled = decoupled;
    }

    /** Adam with PyTorch's defaults (0.9, 0.999, 1e-8, no decay). */
    public static Adam adam(double learningRate) {
        return new Adam(learningRate, 0.9, 0.999, 1e-8, 0.0, false);
    }

    /** AdamW with PyTorch's defaults (weight decay 0.01). */
    public static Adam adamW(double learningRate, double weightDecay) {
        return new Adam(learningRate, 0.9, 0.999, 1e-8, weightDecay, true);
    }

    @Override
    public Params step(Params params, Params grads) {
        return update(params, grads, false);
    }

    /**
     * Through the backend's {@link Kernels#adamUpdateForeachInPlace} when every parameter owns its
     * array ({@link #step}'s kernel otherwise): where the backend wrote a new parameter into the old
     * one's memory, the old tensor is returned as the new one; every other old parameter is closed.
     */
    @Override
    public Params stepInPlace(Params params, Params grads) {
        return update(params, grads, true);
    }

    private Params update(Params params, Params grads, boolean donate) {
        requireNonNull(params, "params is null");
        requireNonNull(grads, "grads is null");
        ForeachGroups.checkGradients(params, grads);
        steps++;
        AdamStep h = new AdamStep(learningRate, beta1, beta2, epsilon, weightDecay, decoupled, steps);
        Map<String, Tensor> out = new LinkedHashMap<>();
        // One foreach call per engine (normally one): the backend may update the moments in place.
        for (Map.Entry<Engine, List<String>> group : ForeachGroups.byEngine(params).entrySet()) {
            Engine engine = group.getKey();
            Kernels k = engine.kernels();
            List<NativeArray> ps = new ArrayList<>();
            List<NativeArray> gs = new ArrayList<>();
            List<NativeArray> ms = new ArrayList<>();
            List<NativeArray> vs = new ArrayList<>();
            for (String name : group.getValue()) {
                Tensor p = params.get(name);
                ps.add(p.nativeArray());
                gs.add(grads.get(name).nativeArray());
                ms.add(m.computeIfAbsent(name, n -> engine.wrapUnscoped(k.zeros(p.shape(), p.dtype()))).nativeArray());
                vs.add(v.computeIfAbsent(name, n -> engine.wrapUnscoped(k.zeros(p.shape(), p.dtype()))).nativeArray());
            }
            // a view's memory belongs to another tensor, which someone may still read
            boolean inPlace = donate && group.getValue().stream().allMatch(n -> params.get(n).ownsArray());
            List<AdamResult> results = inPlace ? k.adamUpdateForeachInPlace(ps, gs, ms, vs, h) : k.adamUpdateForeach(ps, gs, ms, vs, h);
            for (int i = 0; i < results.size(); i++) {
                String name = group.getValue().get(i);
                AdamResult r = results.get(i);
                m.put(name, keepOrReplace(engine, m.get(name), r.m()));
                v.put(name, keepOrReplace(engine, v.get(name), r.v()));
                Tensor old = params.get(name);
                out.put(name, inPlace && r.param() == old.nativeArray() ? old : engine.wrapUnscoped(r.param()));
            }
        }
        Map<String, Tensor> ordered = new LinkedHashMap<>();
        params.names().forEach(n -> ordered.put(n, out.get(n)));
        if (donate) {
            // the caller handed params over: what is not returned is closed here, a tensor listed twice once
            java.util.Set<Tensor> done = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
            done.addAll(ordered.values());
            for (Tensor t : params.values()) {
                if (done.add(t)) {
                    t.close();
                }
            }
        }
        return Params.of(ordered);
    }

    /** The moment tensor for {@code updated}: the old one when the backend updated it in place. */
    private static Tensor keepOrReplace(Engine engine, Tensor old, NativeArray updated) {
        if (old.nativeArray() == updated) {
            return old;
        }
        old.close();
        return engine.wrapUnscoped(updated);
    }

    @Override
    public long steps() {
        return steps;
    }

    @Override
    public Params state() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        m.forEach((n, t) -> out.put("m/" + n, t));
        v.forEach((n, t) -> out.put("v/" + n, t));
        return Params.of(out);
    }

    @Override
    public void loadState(Params state, long stepCount) {
        close();
        for (String key : state.names()) {
            Tensor t = state.get(key);
            Tensor copy = t.engine().wrapUnscoped(t.engine().kernels().cast(t.nativeArray(), t.dtype()));
            if (key.startsWith("m/")) {
                m.put(key.substring(2), copy);
            } else if (key.startsWith("v/")) {
                v.put(key.substring(2), copy);
            } else {
                copy.close();
                throw new IllegalArgumentException("unknown Adam state entry '" + key + "'; expected m/<param> or v/<param>");
            }
        }
        this.steps = stepCount;
    }

    @Override
    public void close() {
        m.values().forEach(Tensor::close);
        v.values().forEach(Tensor::close);
        m.clear();
        v.clear();
    }
}
