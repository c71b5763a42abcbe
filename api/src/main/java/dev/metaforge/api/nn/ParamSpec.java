package dev.metaforge.api.nn;

import static java.util.Objects.requireNonNull;

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
 * A declared parameter of a {@link Module}: name, unbatched shape, kind, axes, fans and initializer.
 *
 * @param name   unique within the module, dot-separated for nested modules ("0.weight")
 * @param shape  the shape of one network's parameter (a weight batch adds a leading axis)
 * @param kind   what the parameter is
 * @param axes   what each axis indexes (one entry per axis of {@code shape})
 * @param fanIn  inputs feeding one output unit (for Kaiming/Xavier)
 * @param fanOut outputs fed by one input unit
 * @param init   how to initialise it
 */
public record ParamSpec(String name, Shape shape, ParamKind kind, List<Axis> axes, int fanIn, int fanOut,
                        Initializer init) {
    public ParamSpec {
        requireNonNull(name, "name is null");
        requireNonNull(shape, "shape is null");
        requireNonNull(kind, "kind is null");
        axes = List.copyOf(requireNonNull(axes, "axes is null"));
        requireNonNull(init, "init is null");
        if (axes.size() != shape.rank()) {
            throw new IllegalArgumentException("parameter '" + name + "' of shape " + shape + " declares " + axes.size()
                    + " axes " + axes + "; it needs one per dimension");
        }
    }

    /**
     * A spec whose axes follow the usual layout: a rank-2 weight is [IN, OUT] (as {@link Linear}), a
     * rank-1 parameter is [OUT], a rank-4 weight is [OUT, IN, KERNEL, KERNEL] (as a convolution);
     * anything else is OTHER.
     */
    public ParamSpec(String name, Shape shape, ParamKind kind, int fanIn, int fanOut, Initializer init) {
        this(name, shape, kind, defaultAxes(shape), fanIn, fanOut, init);
    }

    /** The same spec under {@code prefix + "." + name}. */
    public ParamSpec prefixed(String prefix) {
        return new ParamSpec(prefix + "." + name, shape, kind, axes, fanIn, fanOut, init);
    }

    public ParamSpec withInit(Initializer newInit) {
        return new ParamSpec(name, shape, kind, axes, fanIn, fanOut, newInit);
    }

    /** The position of the first axis with {@code role}, or -1. */
    public int axisOf(Axis role) {
        return axes.indexOf(role);
    }

    private static List<Axis> defaultAxes(Shape shape) {
        List<Axis> out = new ArrayList<>(shape.rank());
        switch (shape.rank()) {
            case 1 -> out.add(Axis.OUT);
            case 2 -> {
                out.add(Axis.IN);
                out.add(Axis.OUT);
            }
            case 4 -> out.addAll(List.of(Axis.OUT, Axis.IN, Axis.KERNEL, Axis.KERNEL));
            default -> {
                for (int i = 0; i < shape.rank(); i++) {
                    out.add(Axis.OTHER);
                }
            }
        }
        return out;
    }

    /**
     * Fresh parameters from each spec's initializer, in list order, one seed per parameter drawn from
     * {@code rng}: the one rule behind every {@code init} of modules, hypernetworks and metanetworks, so a
     * seed gives the same parameters whichever of them owns the specs.
     */
    public static Params initAll(List<ParamSpec> specs, Engine engine, RandomStream rng) {
        requireNonNull(specs, "specs is null");
        requireNonNull(engine, "engine is null");
        requireNonNull(rng, "rng is null");
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (ParamSpec spec : specs) {
            out.put(spec.name(), spec.init().create(engine, spec, rng.nextSeed()));
        }
        return Params.of(out);
    }

    /** Scalars in {@code specs}. */
    public static long count(List<ParamSpec> specs) {
        long n = 0;
        for (ParamSpec s : specs) {
            n += s.shape().size();
        }
        return n;
    }
}
