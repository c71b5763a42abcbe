package dev.metaforge.api.moe;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.nn.Axis;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleCall;
import dev.metaforge.api.nn.ModuleOutput;
import dev.metaforge.api.nn.ModuleStructure;
import dev.metaforge.api.nn.NeuronGroup;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.nn.StateSpec;
import dev.metaforge.api.nn.StructureBuilder;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A mixture-of-experts layer: a {@link Router}, E copies of an expert {@link Module} run as
 * <em>one weight batch</em>, optional shared experts that see every token, and the weighted
 * combination. It is an ordinary module (inside {@code sequential}, a transformer block, as a
 * hypernetwork target or under a meta-learner) that maps [..., d] to [..., d_out].
 *
 * <p>Parameters: {@code router.*} (the router's), {@code experts.*} (each of the expert module's
 * parameters with a leading expert axis E: an expert {@code mlp} gives {@code experts.0.weight}
 * [E, d, h]), {@code shared.*} (the shared expert's, when present). State: {@code router.*} (e.g.
 * an auxiliary-loss-free balancing bias).
 *
 * <p>Dispatch follows the plan, always as one batched expert call:
 * <ul>
 *   <li><b>capacity</b> (token choice, C > 0): tokens are gathered into buffers [E, C, d] at
 *       {@code expert·C + slot}; dropped assignments are not computed and contribute 0;</li>
 *   <li><b>dropless</b> (token choice, no capacity; MegaBlocks-style): assignments are grouped by
 *       expert (their slots are ranks after a stable sort), each group padded to a multiple of a
 *       block size b, and the [blocks, b, d] buffer is run with the experts' weights gathered per
 *       block; the padded size {@code ⌊(A + E(b−1))/b⌋·b} bounds every possible grouping, so shapes
 *       never depend on the data;</li>
 *   <li><b>expert choice</b>: each expert's C picked tokens are gathered into [E, C, d] and the
 *       weighted outputs are scattered back onto their tokens.</li>
 * </ul>
 * No step copies data to the host. The forward output carries the router's losses (named as in
 * the plan, e.g. {@code balance_loss}, {@code z_loss}) and metrics: {@code expert_load.i} (the
 * fraction of assignments expert i received), {@code drop_rate}, {@code router_entropy} and the
 * router's own statistics.
 *
 * <p>Weight batch: when the router's parameters carry a leading axis B (a hypernetwork generating
 * B MoE layers), the B layers run one after the other and their outputs are stacked [B, ..., d_out];
 * their losses and metrics are averaged. Generated and ordinary parameters may be mixed (a
 * parameter with its declared rank is shared by all B). Stateful routers do not support this.
 *
 * @param router    decides where tokens go; its width is the layer's input width d
 * @param expert    one expert (any module mapping [.., d] to [.., d_out] that supports a weight
 *                  batch, e.g. {@code mlp}); stateless
 * @param experts   E, equal to {@code router.experts()}
 * @param shared    an expert every token goes through, added to the routed output; null for none
 * @param blockSize rows per block of the dropless dispatch; 0 chooses one from the batch
 */
public record MixtureOfExperts(Router router, Module expert, int experts, Module shared, int blockSize) implements Module {
    /** Parameter and state prefix of the router. */
    public static final String ROUTER = "router";
    /** Parameter prefix of the routed experts (leading axis E). */
    public static final String EXPERTS = "experts";
    /** Parameter prefix of the shared expert. */
    public static final String SHARED = "shared";
    /** Metric name prefix of the per-expert load: {@code expert_load.0}, {@code expert_load.1}, ... */
    public static final String LOAD_METRIC = "expert_load";

    public MixtureOfExperts {
        requireNonNull(router, "router is null");
        requireNonNull(expert, "expert is null");
        if (experts <= 0 || router.experts() != experts) {
            throw new IllegalArgumentException("the router routes to " + router.experts() + " experts but the layer has "
                    + experts);
        }
        if (blockSize < 0) {
            throw new IllegalArgumentException("blockSize must be >= 0 (0: automatic), got " + blockSize);
        }
        if (!expert.stateSpecs().isEmpty()) {
            throw new IllegalArgumentException("experts must be stateless; the expert module '" + expert.kind()
                    + "' declares state " + expert.stateSpecs().stream().map(StateSpec::name).toList());
        }
        int[] io = widths(expert);
        if (io[0] >= 0 && io[0] != router.width()) {
            throw new IllegalArgumentException("the experts read " + io[0] + " features but the router's width is "
                    + router.width() + "; they must agree");
        }
        if (shared != null) {
            int[] sio = widths(shared);
            if (sio[0] >= 0 && sio[0] != router.width()) {
                throw new IllegalArgumentException("the shared expert reads " + sio[0] + " features but the router's width is "
                        + router.width());
            }
            if (sio[1] >= 0 && io[1] >= 0 && sio[1] != io[1]) {
                throw new IllegalArgumentException("the shared expert writes " + sio[1] + " features but the routed experts write "
                        + io[1]);
            }
        }
    }

    /** A layer without shared experts and with automatic dropless blocks. */
    public static MixtureOfExperts of(Router router, Module expert) {
        return new MixtureOfExperts(router, expert, router.experts(), null, 0);
    }

    /**
     * The input and output widths of {@code module} read from its structure; -1 where the module
     * does not fix them (a parameter-free module).
     */
    public static int[] widths(Module module) {
        ModuleStructure s = module.structure();
        return new int[] {s.group(s.input()).size(), s.group(s.output()).size()};
    }

    /** The input width d. */
    public int width() {
        return router.width();
    }

    @Override
    public List<ParamSpec> parameters() {
        List<ParamSpec> out = new ArrayList<>();
        for (ParamSpec s : router.parameters()) {
            out.add(s.prefixed(ROUTER));
        }
        for (ParamSpec s : expert.parameters()) {
            out.add(expertSpec(s, experts));
        }
        if (shared != null) {
            for (ParamSpec s : shared.parameters()) {
                out.add(s.prefixed(SHARED));
            }
        }
        return out;
    }

    /** {@code spec} of one expert as the parameter of E experts: leading axis E (an INDEX axis), same fans and initializer. */
    public static ParamSpec expertSpec(ParamSpec spec, int experts) {
        int[] dims = new int[spec.shape().rank() + 1];
        dims[0] = experts;
        System.arraycopy(spec.shape().dims(), 0, dims, 1, spec.shape().rank());
        List<Axis> axes = new ArrayList<>();
        axes.add(Axis.INDEX);
        axes.addAll(spec.axes());
        return new ParamSpec(EXPERTS + "." + spec.name(), Shape.of(dims), spec.kind(), axes, spec.fanIn(), spec.fanOut(),
                spec.init());
    }

    @Override
    public List<StateSpec> stateSpecs() {
        List<StateSpec> out = new ArrayList<>();
        for (StateSpec s : router.stateSpecs()) {
            out.add(s.prefixed(ROUTER));
        }
        return out;
    }

    @Override
    public String kind() {
        return "moe";
    }

    /**
     * The router as a layer (kind "router", writing E gate neurons), the expert's own layers under
     * {@code experts} (their parameters carry the leading expert axis), the shared expert's under
     * {@code shared}, and a "moe" layer that combines them (attributes: router, experts, k, ...).
     */
    @Override
    public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
        NeuronGroup in = b.resolve(input, router.width());
        NeuronGroup gates = b.group(StructureBuilder.join(prefix, "router.out"), experts);
        Map<String, String> routerParams = new LinkedHashMap<>();
        for (ParamSpec s : router.parameters()) {
            routerParams.put(s.name(), StructureBuilder.join(prefix, ROUTER + "." + s.name()));
        }
        b.layer(StructureBuilder.join(prefix, ROUTER), "router", in, gates, routerParams, router.attributes());
        NeuronGroup routed = expert.describe(b, StructureBuilder.join(prefix, EXPERTS), in);
        NeuronGroup out = b.group(StructureBuilder.join(prefix, "out"), b.current(routed).size());
        Map<String, String> attributes = new LinkedHashMap<>(router.attributes());
        attributes.put("expertKind", expert.kind());
        attributes.put("expertAxis", "0");
        attributes.put("shared", Boolean.toString(shared != null));
        if (shared != null) {
            shared.describe(b, StructureBuilder.join(prefix, SHARED), in);
        }
        b.layer(prefix, kind(), b.current(routed), out, Map.of(), attributes);
        return out;
    }

    @Override
    public Tensor apply(Params params, Tensor input) {
        return forward(params, input, ModuleCall.eval(initState(input.engine(), 0))).output();
    }

    /** The plan for {@code input} [..., d] (flattened to tokens), as {@link #forward} computes it. */
    public RoutingPlan route(Params params, Tensor input, ModuleCall call) {
        return router.route(params.scoped(ROUTER), tokens(input), call.child(ROUTER));
    }

    @Override
    public ModuleOutput forward(Params params, Tensor input, ModuleCall call) {
        requireNonNull(params, "params is null");
        requireNonNull(input, "input is null");
        requireNonNull(call, "call is null");
        int outer = outerBatch(params);
        if (outer > 0) {
            return forwardEach(params, input, call, outer);
        }
        Tensor x = tokens(input);
        RoutingPlan plan = router.route(params.scoped(ROUTER), x, call.child(ROUTER));
        Tensor y = combine(params.scoped(EXPERTS), x, plan);
        if (shared != null) {
            y = y.add(shared.apply(params.scoped(SHARED), x));
        }
        if (input.rank() != 2) {
            int[] dims = input.shape().dims();
            dims[dims.length - 1] = y.dim(1);
            y = y.reshape(dims);
        }
        Map<String, Tensor> metrics = new LinkedHashMap<>();
        Tensor load = plan.load();
        for (int i = 0; i < experts; i++) {
            metrics.put(LOAD_METRIC + "." + i, load.slice(0, i, i + 1).reshape(Shape.scalar()));
        }
        metrics.putAll(plan.statistics());
        Params state = plan.state().isEmpty() ? Params.empty() : plan.state().prefixed(ROUTER);
        return new ModuleOutput(y, state, plan.losses(), metrics);
    }

    /**
     * The routed experts' combined output [N, d_out] for tokens {@code x} [N, d] and {@code plan}:
     * {@code y[n] = Σ over n's kept assignments of weight · expert_e(x[n])}, with {@code expertParams}
     * the experts' parameters (leading axis E, names without the {@code experts.} prefix). See
     * {@link ExpertBatch#combine}.
     */
    public Tensor combine(Params expertParams, Tensor x, RoutingPlan plan) {
        return new ExpertBatch(expert, experts, blockSize).combine(expertParams, x, plan);
    }

    private Tensor tokens(Tensor input) {
        int d = router.width();
        if (input.rank() < 2 || input.dim(-1) != d) {
            throw new IllegalArgumentException("moe: input shape " + input.shape() + " must be [..., " + d + "] (at least rank 2)");
        }
        return input.rank() == 2 ? input : input.reshape(-1, d);
    }

    /** B when the router's parameters carry a leading weight-batch axis, else 0. */
    private int outerBatch(Params params) {
        int batch = 0;
        for (ParamSpec spec : parameters()) {
            if (!params.contains(spec.name())) {
                throw new IllegalArgumentException("moe: parameter '" + spec.name() + "' is missing; got " + params.names());
            }
            Tensor t = params.get(spec.name());
            if (t.shape().equals(spec.shape())) {
                continue;
            }
            if (t.rank() == spec.shape().rank() + 1 && t.shape().without(0).equals(spec.shape())) {
                if (batch > 0 && t.dim(0) != batch) {
                    throw new IllegalArgumentException("moe: parameter '" + spec.name() + "' has weight batch " + t.dim(0)
                            + " but others have " + batch);
                }
                batch = t.dim(0);
            } else {
                throw new IllegalArgumentException("moe: parameter '" + spec.name() + "' has shape " + t.shape()
                        + " but the layer declares " + spec.shape() + " (or [B, ...] for a weight batch)");
            }
        }
        return batch;
    }

    private ModuleOutput forwardEach(Params params, Tensor input, ModuleCall call, int batch) {
        if (!router.stateSpecs().isEmpty()) {
            throw new IllegalArgumentException("moe: a weight batch of layers with a stateful router ('" + router.kind()
                    + "') is not supported");
        }
        Map<String, ParamSpec> declared = new LinkedHashMap<>();
        parameters().forEach(s -> declared.put(s.name(), s));
        boolean perNetworkInput = input.rank() >= 3 && input.dim(0) == batch;
        List<Tensor> outputs = new ArrayList<>(batch);
        Map<String, Tensor> losses = new LinkedHashMap<>();
        Map<String, Tensor> metrics = new LinkedHashMap<>();
        for (int i = 0; i < batch; i++) {
            int at = i;
            Params one = params.mapNamed((name, t) -> {
                ParamSpec spec = declared.get(name);
                return spec != null && t.rank() == spec.shape().rank() + 1 ? t.slice(0, at, at + 1).squeeze(0) : t;
            });
            Tensor x = perNetworkInput ? input.slice(0, i, i + 1).squeeze(0) : input;
            ModuleOutput out = forward(one, x, call);
            outputs.add(out.output());
            out.losses().forEach((n, t) -> losses.merge(n, t.div((double) batch), Tensor::add));
            out.metrics().forEach((n, t) -> metrics.merge(n, t.div((double) batch), Tensor::add));
        }
        return new ModuleOutput(Tensor.stack(outputs, 0), call.state(), losses, metrics);
    }
}
