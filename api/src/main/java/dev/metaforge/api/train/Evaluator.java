package dev.metaforge.api.train;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.checkpoint.Checkpoint;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.NoGrad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Evaluates a checkpoint: builds the spec's objective, loads the checkpoint's parameters and
 * objective state (checking names, shapes and dtypes against the experiment) and returns
 * {@link Objective#evaluate}'s metrics.
 *
 * <pre>{@code
 * EvalResult r = new Evaluator(engine, specs).evaluate(spec, specDir, Path.of("runs/sin/checkpoint.safetensors"));
 * System.out.println(r.toJson());
 * }</pre>
 */
@SuppressWarnings("try") // scopes and NoGrad are opened for their effect on the tensors inside, not used by name
public final class Evaluator {
    private final Engine engine;
    private final SpecRegistry specs;

    public Evaluator(Engine engine, SpecRegistry specs) {
        this.engine = requireNonNull(engine, "engine is null");
        this.specs = requireNonNull(specs, "specs is null");
    }

    /**
     * @param baseDir    directory relative paths in the spec are resolved against
     * @param checkpoint a file written by {@link Trainer}
     */
    public EvalResult evaluate(TrainSpec spec, Path baseDir, Path checkpoint) throws IOException {
        requireNonNull(spec, "spec is null");
        requireNonNull(baseDir, "baseDir is null");
        requireNonNull(checkpoint, "checkpoint is null");
        Engine runEngine = engine.withDefaultDType(spec.engineDType());
        Checkpoint loaded = Checkpoint.load(checkpoint);
        Objective objective = RunSupport.buildObjective(spec, new BuildContext(runEngine, specs, baseDir, spec.seed()));
        Map<String, Double> metrics;
        try (Scope scope = Scope.open()) {
            Params params = RunSupport.restore(loaded, checkpoint, objective, null, runEngine, spec.seed());
            try (NoGrad noGrad = NoGrad.enter()) {
                metrics = new LinkedHashMap<>(requireNonNull(objective.evaluate(params), "objective.evaluate returned null"));
            }
        }
        return new EvalResult(checkpoint, loaded.step(), metrics);
    }
}
