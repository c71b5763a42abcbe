package dev.metaforge.api.train;

import dev.metaforge.api.checkpoint.Checkpoint;
import dev.metaforge.api.checkpoint.Safetensors;
import dev.metaforge.api.checkpoint.TensorData;
import dev.metaforge.api.optim.Optimizer;
import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.UnsupportedCapabilityException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Building a run's components from its spec and moving state between checkpoints and tensors. */
@SuppressWarnings("try") // scopes and NoGrad are opened for their effect on the tensors inside, not used by name
final class RunSupport {
    private RunSupport() {
    }

    /** The objective; a failure names the JSON path so the user knows which part of the spec to fix. */
    static Objective buildObjective(TrainSpec spec, BuildContext context) {
        try {
            Objective objective = spec.experiment().build(context);
            if (objective == null) {
                throw new IllegalStateException(spec.experiment().getClass().getName() + ".build returned null");
            }
            return objective;
        } catch (SpecException e) {
            throw e;
        } catch (IllegalArgumentException | UnsupportedCapabilityException e) {
            throw new SpecException("cannot build $.experiment: " + e.getMessage(), "$.experiment", e);
        }
    }

    static Optimizer buildOptimizer(TrainSpec spec) {
        try {
            Optimizer optimizer = spec.optimizer().build();
            if (optimizer == null) {
                throw new IllegalStateException(spec.optimizer().getClass().getName() + ".build returned null");
            }
            return optimizer;
        } catch (SpecException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new SpecException("cannot build $.optimizer: " + e.getMessage(), "$.optimizer", e);
        }
    }

    /**
     * The checkpoint's parameters as tensors of the current scope, after checking that names,
     * shapes and dtypes match what the objective initialises.
     */
    static Params restoreParams(Checkpoint checkpoint, Path file, Objective objective, Engine engine, long seed) {
        Map<String, TensorData> stored = checkpoint.params();
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (Scope scope = Scope.open()) {
            Params fresh = objective.init(TrainingLoop.initRandom(seed));
            List<String> missing = new ArrayList<>();
            for (String name : fresh.names()) {
                if (!stored.containsKey(name)) {
                    missing.add(name);
                }
            }
            List<String> unexpected = new ArrayList<>();
            for (String name : stored.keySet()) {
                if (!fresh.contains(name)) {
                    unexpected.add(name);
                }
            }
            if (!missing.isEmpty() || !unexpected.isEmpty()) {
                throw new TrainingException("checkpoint " + file + " does not fit the experiment: "
                        + (missing.isEmpty() ? "" : "parameters missing from the checkpoint: " + missing + "; ")
                        + (unexpected.isEmpty() ? "" : "parameters the experiment does not have: " + unexpected + "; ")
                        + "was it written for another spec?");
            }
            for (String name : fresh.names()) {
                Tensor expected = fresh.get(name);
                TensorData data = stored.get(name);
                if (!data.shape().equals(expected.shape())) {
                    throw new TrainingException("checkpoint " + file + " does not fit the experiment: parameter '" + name
                            + "' has shape " + data.shape() + " in the checkpoint but " + expected.shape() + " in the spec");
                }
                if (data.dtype() != expected.dtype()) {
                    throw new TrainingException("checkpoint " + file + " holds parameter '" + name + "' as "
                            + Safetensors.dtypeName(data.dtype()) + " but this run computes in " + expected.dtype()
                            + "; set \"dtype\" in the spec to match the checkpoint");
                }
            }
        }
        for (String name : stored.keySet()) {
            out.put(name, stored.get(name).toTensor(engine));
        }
        return Params.of(out);
    }

    /**
     * Everything a checkpoint restores into a run, in one place for training ({@link Trainer}'s
     * {@code --resume}) and evaluation ({@link Evaluator}): the parameters (checked against what the
     * objective initialises, {@link #restoreParams}), the objective's state and, when
     * {@code optimizer} is given, the optimizer's state at the checkpoint's step. Tensors live in
     * the caller's scope.
     *
     * @param optimizer the run's optimizer, or null when nothing will be trained (evaluation)
     * @return the restored parameters
     * @throws TrainingException naming {@code file} when a part does not fit
     */
    static Params restore(Checkpoint checkpoint, Path file, Objective objective, Optimizer optimizer, Engine engine, long seed) {
        Params params = restoreParams(checkpoint, file, objective, engine, seed);
        if (optimizer != null) {
            try {
                optimizer.loadState(tensors(checkpoint.optimizerState(), engine), checkpoint.step());
            } catch (IllegalArgumentException e) {
                throw new TrainingException("cannot restore the optimizer from " + file + ": " + e.getMessage(), e);
            }
        }
        try {
            objective.loadState(tensors(checkpoint.objectiveState(), engine));
        } catch (IllegalArgumentException e) {
            throw new TrainingException("cannot restore the objective's state from " + file + ": " + e.getMessage(), e);
        }
        return params;
    }

    /** Tensors of the current scope holding {@code data}. */
    static Params tensors(Map<String, TensorData> data, Engine engine) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        data.forEach((name, d) -> out.put(name, d.toTensor(engine)));
        return Params.of(out);
    }

    /** Host copies of every tensor. */
    static Map<String, TensorData> hostCopy(Params params) {
        Map<String, TensorData> out = new LinkedHashMap<>();
        for (String name : params.names()) {
            out.put(name, TensorData.of(params.get(name)));
        }
        return out;
    }
}
