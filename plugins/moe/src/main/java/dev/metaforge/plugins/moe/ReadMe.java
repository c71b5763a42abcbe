package dev.metaforge.plugins.moe;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.moe.ExpertBatch;
import dev.metaforge.api.moe.MixtureOfExperts;
import dev.metaforge.api.moe.Router;
import dev.metaforge.api.moe.RoutingPlan;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleCall;
import dev.metaforge.api.nn.ModuleOutput;
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
 * Read-ME's pre-gating router decoupled from the backbone (Cai et al. 2024, "Read-ME: Refactorizing
 * LLMs as Router-Decoupled Mixture of Experts with System Co-Design"): a stack of L residual MoE
 * feed-forward blocks {@code h_{l+1} = h_l + MoE_l(h_l)} whose routing is computed by a separate
 * small network from the stack's <em>input</em> only — a shared pre-gating trunk
 * {@code z = tanh(x W_p + b_p)} and one gate per layer reading z — so the routing plans of every
 * layer are known before the first layer runs ({@link #plans}). A serving system can then batch
 * tokens by expert and prefetch or cache exactly the experts each layer will need
 * ({@link #expertsNeeded}) ahead of the computation.
 *
 * <p>Defining property — routing decoupled from the backbone, tested in
 * {@code ReadMeTest.routingOfEveryLayerIsKnownBeforeTheStackRunsAndIgnoresTheBackbone}: the plans
 * from {@link #plans} equal the ones the forward pass uses, and changing any backbone (expert)
 * weight, which changes the hidden states entering later layers, leaves every layer's plan
 * unchanged, bit for bit.
 *
 * <p>Parameters: {@code pregate.*} (the trunk), {@code router.l.*} (layer l's gate),
 * {@code layers.l.experts.*} (layer l's experts, leading axis E). Losses and metrics carry the
 * layer index ({@code 0.balance_loss}, {@code 1.expert_load.3}).
 *
 * @param width     d, the stack's width (the experts map d to d)
 * @param pregate   the trunk d → r
 * @param routers   one router of width r per layer
 * @param experts   E per layer
 * @param expert    one expert module d → d
 * @param blockSize dropless block size (0: automatic)
 */
public record ReadMe(int width, Mlp pregate, List<Router> routers, int experts, Module expert, int blockSize) implements Module {
    /** Parameter prefix of the pre-gating trunk. */
    static final String PREGATE = "pregate";
    /** Parameter prefix of the per-layer gates. */
    static final String ROUTER = "router";
    /** Parameter prefix of the layers. */
    static final String LAYERS = "layers";

    public ReadMe {
        requireNonNull(pregate, "pregate is null");
        routers = List.copyOf(requireNonNull(routers, "routers is null"));
        requireNonNull(expert, "expert is null");
        if (routers.isEmpty()) {
            throw new IllegalArgumentException("field 'layers' must be > 0");
        }
        int r = pregate.sizes().get(pregate.sizes().size() - 1);
        for (Router router : routers) {
            if (router.width() != r || router.experts() != experts) {
                throw new IllegalArgumentException("every layer's router must read the pre-gate's " + r + " features and route to "
                        + experts + " experts");
            }
        }
        int[] io = MixtureOfExperts.widths(expert);
        if ((io[0] >= 0 && io[0] != width) || (io[1] >= 0 && io[1] != width)) {
            throw new IllegalArgumentException("field 'expert' maps " + io[0] + " to " + io[1] + " features but the residual stack needs "
                    + width + " to " + width);
        }
    }

    /** A pre-gating trunk d → r (tanh) and one gate per layer built by {@code router}. */
    static Mlp trunk(int width, int pregateWidth) {
        return new Mlp(List.of(width, pregateWidth), Activation.TANH, Activation.TANH, Initializer.torchDefault());
    }

    public int layers() {
        return routers.size();
    }

    @Override
    public List<ParamSpec> parameters() {
        List<ParamSpec> out = new ArrayList<>();
        pregate.parameters().forEach(s -> out.add(s.prefixed(PREGATE)));
        for (int l = 0; l < routers.size(); l++) {
            for (ParamSpec s : routers.get(l).parameters()) {
                out.add(s.prefixed(ROUTER + "." + l));
            }
        }
        for (int l = 0; l < routers.size(); l++) {
            for (ParamSpec s : expert.parameters()) {
                out.add(MixtureOfExperts.expertSpec(s, experts).prefixed(LAYERS + "." + l));
            }
        }
        return out;
    }

    @Override
    public List<StateSpec> stateSpecs() {
        List<StateSpec> out = new ArrayList<>();
        for (int l = 0; l < routers.size(); l++) {
            for (StateSpec s : routers.get(l).stateSpecs()) {
                out.add(s.prefixed(ROUTER + "." + l));
            }
        }
        return out;
    }

    @Override
    public String kind() {
        return "read-me";
    }

    /**
     * The routing plans of every layer for {@code input} [..., d], computed from the input alone
     * (before, and independently of, the layer stack).
     */
    public List<RoutingPlan> plans(Params params, Tensor input, ModuleCall call) {
        Tensor x = tokens(input);
        Tensor z = pregate.apply(params.scoped(PREGATE), x);
        List<RoutingPlan> plans = new ArrayList<>(routers.size());
        for (int l = 0; l < routers.size(); l++) {
            String name = ROUTER + "." + l;
            plans.add(routers.get(l).route(params.scoped(name), z, call.child(name)));
        }
        return plans;
    }

    /**
     * Host-side scheduling helper (not for the training step): for each layer, how many assignments
     * each expert will receive, from plans computed ahead of time — the experts a server must have
     * loaded for that layer are those with a count above zero.
     */
    public static List<long[]> expertsNeeded(List<RoutingPlan> plans) {
        List<long[]> out = new ArrayList<>();
        for (RoutingPlan plan : plans) {
            long[] counts = new long[plan.experts()];
            long[] expert = plan.expert().toLongs();
            double[] kept = plan.kept().toDoubles();
            for (int a = 0; a < expert.length; a++) {
                if (kept[a] != 0) {
                    counts[(int) expert[a]]++;
                }
            }
            out.add(counts);
        }
        return out;
    }

    @Override
    public Tensor apply(Params params, Tensor input) {
        return forward(params, input, ModuleCall.eval(initState(input.engine(), 0))).output();
    }

    @Override
    public ModuleOutput forward(Params params, Tensor input, ModuleCall call) {
        return run(params, input, plans(params, input, call));
    }

    /** The stack run with given plans (one per layer). */
    public ModuleOutput run(Params params, Tensor input, List<RoutingPlan> plans) {
        if (plans.size() != routers.size()) {
            throw new IllegalArgumentException(plans.size() + " plans for " + routers.size() + " layers");
        }
        Tensor h = tokens(input);
        ExpertBatch batch = new ExpertBatch(expert, experts, blockSize);
        Map<String, Tensor> losses = new LinkedHashMap<>();
        Map<String, Tensor> metrics = new LinkedHashMap<>();
        Params state = Params.empty();
        for (int l = 0; l < plans.size(); l++) {
            RoutingPlan plan = plans.get(l);
            h = h.add(batch.combine(params.scoped(LAYERS + "." + l + "." + MixtureOfExperts.EXPERTS), h, plan));
            String layer = Integer.toString(l);
            plan.losses().forEach((n, t) -> losses.put(layer + "." + n, t));
            Tensor load = plan.load();
            for (int e = 0; e < experts; e++) {
                metrics.put(layer + "." + MixtureOfExperts.LOAD_METRIC + "." + e, load.slice(0, e, e + 1).reshape(Shape.scalar()));
            }
            plan.statistics().forEach((n, t) -> metrics.put(layer + "." + n, t));
            if (!plan.state().isEmpty()) {
                state = state.merge(plan.state().prefixed(ROUTER + "." + l));
            }
        }
        if (input.rank() != 2) {
            h = h.reshape(input.shape());
        }
        return new ModuleOutput(h, state, losses, metrics);
    }

    @Override
    public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
        NeuronGroup in = b.resolve(input, width);
        NeuronGroup z = pregate.describe(b, StructureBuilder.join(prefix, PREGATE), in);
        NeuronGroup h = in;
        for (int l = 0; l < routers.size(); l++) {
            NeuronGroup gates = b.group(StructureBuilder.join(prefix, ROUTER + "." + l + ".out"), experts);
            Map<String, String> params = new LinkedHashMap<>();
            for (ParamSpec s : routers.get(l).parameters()) {
                params.put(s.name(), StructureBuilder.join(prefix, ROUTER + "." + l + "." + s.name()));
            }
            b.layer(StructureBuilder.join(prefix, ROUTER + "." + l), "router", b.current(z), gates, params, routers.get(l).attributes());
            String layer = StructureBuilder.join(prefix, LAYERS + "." + l);
            NeuronGroup out = expert.describe(b, StructureBuilder.join(layer, MixtureOfExperts.EXPERTS), h);
            Map<String, String> attributes = new LinkedHashMap<>(routers.get(l).attributes());
            attributes.put("expertAxis", "0");
            attributes.put("residual", "true");
            attributes.put("pregated", "true");
            b.layer(layer, "moe", b.current(out), h, Map.of(), attributes);
        }
        return h;
    }

    private Tensor tokens(Tensor input) {
        if (input.rank() < 2 || input.dim(-1) != width) {
            throw new IllegalArgumentException("read-me: input shape " + input.shape() + " must be [..., " + width + "]");
        }
        return input.rank() == 2 ? input : input.reshape(-1, width);
    }
}
