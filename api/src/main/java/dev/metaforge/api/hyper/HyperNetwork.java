package dev.metaforge.api.hyper;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.util.List;

/**
 * A network that outputs another network's parameters: context → {@link Params}. Like a
 * {@link dev.metaforge.api.nn.Module} it declares its own parameters and holds none, so it is a
 * pure function {@code generate(params, context)} that gradients flow through.
 *
 * <p>Weight batches: a context of shape {@link #contextShape()} gives one network (each generated
 * tensor has its declared shape); a context [B, ...contextShape] gives B networks at once (each
 * generated tensor is [B, ...declared]), computed with batched ops, not a loop.
 *
 * <pre>{@code
 * Params h = hyper.init(engine, RandomStream.of(0));
 * Params one = hyper.generate(h, engine.tensor(new double[] {0.3}, 1));          // unbatched
 * Params many = hyper.generate(h, engine.tensor(new double[] {0.1, 0.9}, 2, 1)); // weight batch of 2
 * }</pre>
 */
public interface HyperNetwork {
    /** The parameters it generates, in order, with one network's shapes (a target's generated specs). */
    List<ParamSpec> generated();

    /** Its own trainable parameters. */
    List<ParamSpec> parameters();

    /**
     * The shape of one context, without the weight-batch axis: [d] for a vector of d scalars,
     * [] for a task id (INT64).
     */
    Shape contextShape();

    /** A short name for errors: the JSON type name of built-in hypernetworks ("mip", "chunked"). */
    default String kind() {
        return "hypernetwork";
    }

    /**
     * True when the generated values are offsets added to a base θ0 (θ = θ0 + Δθ, as MIP does), so
     * an experiment may supply pretrained θ0 weights; false by default.
     */
    default boolean generatesOffsets() {
        return false;
    }

    /** Generated parameters for {@code context}; see the class comment for weight batches. */
    Params generate(Params params, Tensor context);

    /** Fresh parameters from each spec's initializer, one seed per parameter from {@code rng}. */
    default Params init(Engine engine, RandomStream rng) {
        return ParamSpec.initAll(parameters(), engine, rng);
    }

    /** Scalars in the hypernetwork's own parameters. */
    default long parameterCount() {
        return ParamSpec.count(parameters());
    }

    /** Scalars generated per network. */
    default long generatedCount() {
        long n = 0;
        for (ParamSpec s : generated()) {
            n += s.shape().size();
        }
        return n;
    }

    /**
     * The weight-batch size of {@code context}: 0 when it has {@link #contextShape()}, B when it is
     * [B, ...contextShape]; anything else is an error naming both shapes.
     */
    default int contextBatch(Tensor context) {
        requireNonNull(context, "context is null");
        Shape want = contextShape();
        Shape got = context.shape();
        if (got.equals(want)) {
            return 0;
        }
        if (got.rank() == want.rank() + 1 && got.without(0).equals(want)) {
            return got.dim(0);
        }
        String dims = want.toString();
        throw new IllegalArgumentException("hypernetwork '" + kind() + "': context of shape " + got + " is neither "
                + want + " (one network) nor [B" + (want.rank() == 0 ? "" : ", " + dims.substring(1, dims.length() - 1))
                + "] (a weight batch of B networks)");
    }
}
