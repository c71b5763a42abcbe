package dev.metaforge.api.hyper;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Any existing {@link Module}, unchanged, as the target of a hypernetwork: a {@link ParamSelection}
 * splits its declared parameters into <em>generated</em> ones (supplied per call by a
 * hypernetwork, possibly as a weight batch) and <em>ordinary</em> ones (trained directly).
 *
 * <pre>{@code
 * HyperTarget target = new HyperTarget(mlp, ParamSelection.kinds(ParamKind.WEIGHT));
 * Params generated = hyper.generate(h, context);            // weights only, [B, in, out] each
 * Tensor y = target.apply(generated, biases, x);            // biases [out] are shared by all B networks
 * }</pre>
 *
 * Shapes are checked on every call, and a mismatch names the parameter, the declared shape and
 * the shape received.
 */
public final class HyperTarget {
    private final Module module;
    private final ParamSelection selection;
    private final List<ParamSpec> generated;
    private final List<ParamSpec> ordinary;

    public HyperTarget(Module module, ParamSelection selection) {
        this.module = requireNonNull(module, "module is null");
        this.selection = requireNonNull(selection, "selection is null");
        List<ParamSpec> declared = module.parameters();
        this.generated = List.copyOf(selection.select(declared));
        List<ParamSpec> rest = new ArrayList<>();
        for (ParamSpec s : declared) {
            if (!selection.selects(s)) {
                rest.add(s);
            }
        }
        this.ordinary = List.copyOf(rest);
    }

    /** Every parameter of {@code module} generated. */
    public static HyperTarget of(Module module) {
        return new HyperTarget(module, ParamSelection.all());
    }

    public Module module() {
        return module;
    }

    public ParamSelection selection() {
        return selection;
    }

    /** The generated parameters, in the module's declared order, with one network's shapes. */
    public List<ParamSpec> generated() {
        return generated;
    }

    /** The parameters that stay ordinary (trained directly), in declared order. */
    public List<ParamSpec> ordinary() {
        return ordinary;
    }

    /** Scalars a hypernetwork generates per network. */
    public long generatedCount() {
        long n = 0;
        for (ParamSpec s : generated) {
            n += s.shape().size();
        }
        return n;
    }

    /** Fresh ordinary parameters from the module's own initializers. */
    public Params initOrdinary(Engine engine, RandomStream rng) {
        return ParamSpec.initAll(ordinary, engine, rng);
    }

    /**
     * The generated parameters initialised as the module itself would initialise them (e.g. MIP's
     * θ0, which starts like the target's own weights).
     */
    public Params initGenerated(Engine engine, RandomStream rng) {
        return ParamSpec.initAll(generated, engine, rng);
    }

    /**
     * Checks {@code generatedParams} against the generated specs and returns the weight-batch size:
     * 0 when every tensor has its declared shape, B when every tensor is [B, ...declared].
     */
    public int weightBatch(Params generatedParams) {
        requireNonNull(generatedParams, "generated is null");
        checkNames("generated", generated, generatedParams);
        int batch = -1;
        String first = null;
        for (ParamSpec spec : generated) {
            Tensor t = generatedParams.get(spec.name());
            int b;
            if (t.shape().equals(spec.shape())) {
                b = 0;
            } else if (t.rank() == spec.shape().rank() + 1 && t.shape().without(0).equals(spec.shape())) {
                b = t.dim(0);
            } else {
                throw new IllegalArgumentException("generated parameter '" + spec.name() + "' of target "
                        + "module '" + module.kind() + "' has shape " + t.shape() + " but the target declares "
                        + spec.shape() + " (or [B, " + dimsOf(spec.shape()) + "] for a weight batch of B networks)");
            }
            if (batch >= 0 && b != batch) {
                throw new IllegalArgumentException("generated parameter '" + spec.name() + "' has weight batch "
                        + (b == 0 ? "none (unbatched)" : Integer.toString(b)) + " but '" + first + "' has "
                        + (batch == 0 ? "none (unbatched)" : Integer.toString(batch)) + "; every generated tensor needs the same leading B");
            }
            if (batch < 0) {
                first = spec.name();
            }
            batch = b;
        }
        return Math.max(batch, 0);
    }

    /**
     * All the module's parameters in declared order: the generated ones as given and the ordinary
     * ones broadcast to [B, ...] when the generated ones carry a weight batch B (the module then
     * sees one consistent weight batch).
     */
    public Params merge(Params generatedParams, Params ordinaryParams) {
        requireNonNull(ordinaryParams, "ordinary is null");
        int batch = weightBatch(generatedParams);
        checkNames("ordinary", ordinary, ordinaryParams);
        Map<String, Tensor> all = new LinkedHashMap<>();
        for (ParamSpec spec : module.parameters()) {
            if (generatedParams.contains(spec.name())) {
                all.put(spec.name(), generatedParams.get(spec.name()));
                continue;
            }
            Tensor t = ordinaryParams.get(spec.name());
            if (!t.shape().equals(spec.shape())) {
                throw new IllegalArgumentException("ordinary parameter '" + spec.name() + "' has shape " + t.shape()
                        + " but the target declares " + spec.shape() + "; ordinary parameters are shared by every network of a weight batch");
            }
            all.put(spec.name(), batch == 0 ? t : t.broadcastTo(prepend(batch, spec.shape())));
        }
        return Params.of(all);
    }

    /**
     * Runs the target with generated and ordinary parameters. With a weight batch B the output has a
     * leading axis B; the input is either shared ([N, ...]) or per network ([B, N, ...]) as the
     * module supports (Linear, Mlp and Sequential do both).
     */
    public Tensor apply(Params generatedParams, Params ordinaryParams, Tensor input) {
        requireNonNull(input, "input is null");
        return module.apply(merge(generatedParams, ordinaryParams), input);
    }

    @Override
    public String toString() {
        List<String> names = new ArrayList<>();
        for (ParamSpec s : generated) {
            names.add(s.name());
        }
        return "HyperTarget[" + module.kind() + ", generated=" + names + "]";
    }


    private static void checkNames(String what, List<ParamSpec> expected, Params given) {
        List<String> want = new ArrayList<>();
        for (ParamSpec s : expected) {
            want.add(s.name());
        }
        if (given.size() == want.size() && given.names().containsAll(want)) {
            return;
        }
        List<String> missing = new ArrayList<>(want);
        missing.removeAll(given.names());
        List<String> extra = new ArrayList<>(given.names());
        extra.removeAll(want);
        throw new IllegalArgumentException(what + " parameters do not match the target: missing " + missing + ", unexpected "
                + extra + "; expected exactly " + want);
    }

    private static Shape prepend(int batch, Shape shape) {
        int[] d = new int[shape.rank() + 1];
        d[0] = batch;
        System.arraycopy(shape.dims(), 0, d, 1, shape.rank());
        return Shape.of(d);
    }

    private static String dimsOf(Shape s) {
        String t = s.toString();
        return t.substring(1, t.length() - 1);
    }
}
