package dev.metaforge.api.moe;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.nn.ModuleCall;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.nn.StateSpec;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decides which experts process which tokens: a pure function of its parameters, the tokens and
 * the call (mode, random stream, state), returning a {@link RoutingPlan} with the auxiliary losses,
 * statistics and new state as values. Like a module it declares its parameters and state but holds
 * none.
 *
 * <p>Implementations build the plan on the backend ({@link Routing} has the shared pieces), so a
 * training step never copies routing decisions to the host.
 */
public interface Router {
    /** The width d of the token representations it reads. */
    int width();

    /** The number of experts E. */
    int experts();

    /** Assignments per token for token-choice routers; 0 for expert choice. */
    int k();

    /** Declared parameters (unbatched shapes), e.g. the gate {@code weight} [d, E]. */
    List<ParamSpec> parameters();

    /** Declared non-trainable state (e.g. a balancing bias); none by default. */
    default List<StateSpec> stateSpecs() {
        return List.of();
    }

    /**
     * Routes {@code tokens} [N, d]. In train mode a stochastic router draws from
     * {@code call.random(...)} and a stateful one returns its updated state in the plan; in eval mode
     * routing is deterministic and the state is returned unchanged.
     */
    RoutingPlan route(Params params, Tensor tokens, ModuleCall call);

    /** A short name for structures and logs ("topk", "switch", "expert-choice", ...). */
    String kind();

    /** Facts about this router for {@link dev.metaforge.api.nn.LayerInfo#attributes()} (k, capacity factor, ...). */
    default Map<String, String> attributes() {
        Map<String, String> a = new LinkedHashMap<>();
        a.put("router", kind());
        a.put("experts", Integer.toString(experts()));
        a.put("k", Integer.toString(k()));
        return a;
    }

    /** Fresh parameters from each spec's initializer. */
    default Params init(Engine engine, RandomStream rng) {
        requireNonNull(engine, "engine is null");
        requireNonNull(rng, "rng is null");
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (ParamSpec spec : parameters()) {
            out.put(spec.name(), spec.init().create(engine, spec, rng.nextSeed()));
        }
        return Params.of(out);
    }
}
