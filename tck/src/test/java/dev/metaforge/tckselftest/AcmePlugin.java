package dev.metaforge.tckselftest;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.nn.ParamKind;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.plugin.ComponentExample;
import dev.metaforge.api.plugin.MetaforgePlugin;
import dev.metaforge.api.spec.SpecType;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.util.List;

/**
 * A third party's plugin, as a plugin author would write it against {@code metaforge-api} alone: a
 * module type {@code acme-scale} (y = x · w per feature) and a deliberately broken twin
 * {@code acme-scale-wrong-backward}, whose forward is the same but whose gradient is twice the true
 * one (a stopGradient trick: w·2 − stop(w) has the value w and the derivative 2). It is not
 * registered globally: {@link ComponentKitTest} shows it to the kit through its own class loader, so
 * no other TCK run of this module sees it.
 */
public final class AcmePlugin implements MetaforgePlugin {
    static final String NAME = "acme";
    static final String CORRECT = "regression through acme-scale";
    static final String BROKEN = "regression through acme-scale-wrong-backward";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<SpecType> specTypes() {
        return List.of(new SpecType(ModuleSpec.class, "acme-scale", ScaleSpec.class),
                new SpecType(ModuleSpec.class, "acme-scale-wrong-backward", WrongBackwardScaleSpec.class));
    }

    @Override
    public List<ComponentExample> conformanceExamples() {
        return List.of(ComponentExample.of(CORRECT, regressionThrough("acme-scale")),
                ComponentExample.of(BROKEN, regressionThrough("acme-scale-wrong-backward")));
    }

    private static String regressionThrough(String type) {
        return """
                {"type": "regression", "model": {"type": "sequential", "layers": [
                    {"type": "linear", "in": 1, "out": 4}, {"type": "%s", "features": 4},
                    {"type": "activation", "function": "tanh"}, {"type": "linear", "in": 4, "out": 1}]},
                 "task": {"function": "sin", "batch": 5, "evalPoints": 5}}""".formatted(type);
    }

    /** {@code {"type": "acme-scale", "features": 4}}. */
    public record ScaleSpec(int features) implements ModuleSpec {
        @JsonCreator
        public ScaleSpec(@JsonProperty("features") int features) {
            if (features < 1) {
                throw new IllegalArgumentException("features must be >= 1, got " + features);
            }
            this.features = features;
        }

        @Override
        public Module build() {
            return new Scale(features, false);
        }
    }

    /** {@code {"type": "acme-scale-wrong-backward", "features": 4}}: the same forward, a doubled gradient. */
    public record WrongBackwardScaleSpec(int features) implements ModuleSpec {
        @JsonCreator
        public WrongBackwardScaleSpec(@JsonProperty("features") int features) {
            if (features < 1) {
                throw new IllegalArgumentException("features must be >= 1, got " + features);
            }
            this.features = features;
        }

        @Override
        public Module build() {
            return new Scale(features, true);
        }
    }

    /** y = x · w over the last axis; w starts uniform in [0.5, 1.5) so the gradient is not trivial. */
    record Scale(int features, boolean wrongBackward) implements Module {
        @Override
        public List<ParamSpec> parameters() {
            return List.of(new ParamSpec("weight", Shape.of(features), ParamKind.SCALE, features, features,
                    (engine, spec, seed) -> Initializer.uniform(0.5).create(engine, spec, seed).add(1.0)));
        }

        @Override
        public Tensor apply(Params params, Tensor input) {
            Tensor w = params.get("weight");
            if (wrongBackward) {
                w = w.mul(2.0).sub(w.stopGradient());
            }
            if (w.rank() == 2) {
                w = w.reshape(w.dim(0), 1, features); // a weight batch [B, features] against inputs [B, n, features]
            }
            return input.mul(w);
        }

        @Override
        public String kind() {
            return "acme-scale";
        }
    }
}
