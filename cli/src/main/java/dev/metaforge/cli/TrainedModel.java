package dev.metaforge.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.metaforge.api.checkpoint.Checkpoint;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.train.ModelExperiment;
import dev.metaforge.api.train.TrainSpec;
import dev.metaforge.api.train.Trainer;
import dev.metaforge.api.train.TrainingException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The module a run trained, for {@code predict} and {@code export}: the spec (a spec file, or a run
 * directory's {@value Trainer#SPEC_FILE}), its experiment's model, and the checkpoint. Nothing of
 * the experiment's data is loaded.
 *
 * @param specFile   the spec read
 * @param spec       the spec
 * @param experiment the experiment, which trains one module
 * @param module     the module built from the experiment's model spec
 * @param modelJson  the model spec as JSON (type names and paths for errors)
 * @param checkpoint the checkpoint read
 */
record TrainedModel(Path specFile, TrainSpec spec, ModelExperiment experiment, Module module, JsonNode modelJson,
                    Checkpoint checkpoint) {
    /** Where the model spec sits in the spec file. */
    static final String MODEL_PATH = "$.experiment.model";

    /**
     * Reads {@code specOrRunDir} and the checkpoint ({@code checkpoint}, else the run directory's, else
     * where {@code train} writes it for that spec), failing with {@link TrainingException} or
     * {@link SpecException} messages that name the file and what to do.
     */
    static TrainedModel load(SpecRegistry specs, Path specOrRunDir, Path checkpoint, PrintWriter err) throws IOException {
        Path specFile;
        Path defaultCheckpoint;
        if (Files.isDirectory(specOrRunDir)) {
            specFile = specOrRunDir.resolve(Trainer.SPEC_FILE);
            defaultCheckpoint = specOrRunDir.resolve(Trainer.CHECKPOINT_FILE);
            if (!Files.isRegularFile(specFile)) {
                throw new TrainingException(specOrRunDir + " is a directory without " + Trainer.SPEC_FILE
                        + "; pass a run directory written by `metaforge train` or a spec file");
            }
        } else {
            specFile = specOrRunDir;
            defaultCheckpoint = Path.of("runs", TrainCommand.specName(specOrRunDir), Trainer.CHECKPOINT_FILE);
        }
        TrainSpec spec = TrainCommand.readSpec(specs, specFile);
        if (!(spec.experiment() instanceof ModelExperiment experiment)) {
            JsonNode node = specs.mapper().valueToTree(spec.experiment());
            String type = node.hasNonNull("type") ? node.get("type").asText() : "?";
            throw new SpecException(specFile + " at $.experiment: experiment type '" + type + "' does not train one module on inputs,"
                    + " so it has no single model to predict with or export; supported: experiments that do, such as 'regression'"
                    + " and 'classification'", "$.experiment", null);
        }
        Module module;
        try {
            module = experiment.model().build();
        } catch (IllegalArgumentException e) {
            throw new SpecException(specFile + " at " + MODEL_PATH + ": " + e.getMessage(), MODEL_PATH, e);
        }
        JsonNode modelJson = specs.mapper().valueToTree(experiment.model());
        Path file = checkpoint != null ? checkpoint : defaultCheckpoint;
        if (!Files.isRegularFile(file)) {
            throw new TrainingException("checkpoint " + file + " does not exist; train first (metaforge train " + specFile
                    + ") or pass --checkpoint FILE");
        }
        Checkpoint loaded = Checkpoint.load(file, warning -> {
            err.println("metaforge: warning: " + warning);
            err.flush();
        });
        if (!loaded.specHash().equals(spec.trajectoryHash(specs))) {
            // Not an error: the parameters are checked against the model itself; another seed or optimizer is fine.
            err.println("metaforge: warning: checkpoint " + file + " was not written by a run of " + specFile
                    + " (experiment, optimizer, seed or dtype differ); it is used if its parameters fit the model");
            err.flush();
        }
        return new TrainedModel(specFile, spec, experiment, module, modelJson, loaded);
    }
}
