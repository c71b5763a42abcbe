package dev.metaforge.api.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.spec.SpecRegistry;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code "capture"} in the training spec: read, written only when on, outside the trajectory hash; refused for objectives that cannot be captured. */
class TrainSpecCaptureTest {
    private final SpecRegistry specs = TestExperiments.registry();
    private static final String BASE = "{\"experiment\": {\"type\": \"test-linear\", \"features\": 2, \"batch\": 4, \"anchorEvery\": 3,"
            + " \"anchorWeight\": 0.1}, \"optimizer\": {\"type\": \"test-adam\", \"learningRate\": 0.01}, \"steps\": 5";

    @TempDir
    Path dir;

    @Test
    void captureIsReadWrittenWhenOnAndLeavesTheTrajectoryHashAlone() {
        TrainSpec on = specs.read(BASE + ", \"capture\": true}", TrainSpec.class, "spec.json");
        TrainSpec off = specs.read(BASE + "}", TrainSpec.class, "spec.json");
        assertTrue(on.capture());
        assertFalse(off.capture());
        assertEquals(on, specs.read(specs.write(on), TrainSpec.class, "spec.json"));
        assertTrue(specs.write(on).contains("\"capture\""));
        // Off is the default and is not written: spec files and hashes from before the field stay as they were.
        assertFalse(specs.write(off).contains("capture"));
        assertEquals(off.trajectoryHash(specs), on.trajectoryHash(specs), "replay equals eager, so capture does not change the trajectory");
        assertTrue(off.withSteps(9).withCapture(true).withSchedule(2, 0, 0).capture(), "the with- methods keep capture");
    }

    @Test
    void captureOnAnObjectiveThatCannotBeCapturedIsASpecErrorBeforeAnyFile() {
        TrainSpec on = specs.read(BASE + ", \"capture\": true}", TrainSpec.class, "spec.json");
        Path out = dir.resolve("run");
        try (dev.metaforge.api.tensor.Engine engine = dev.metaforge.api.tensor.Engine.of(new dev.metaforge.backend.reference.ReferenceBackend(),
                dev.metaforge.spi.DType.FLOAT64)) {
            SpecException e = assertThrows(SpecException.class, () -> new Trainer(engine, specs).train(on, dir, out, false));
            assertEquals("$.capture", e.jsonPath());
            assertTrue(e.getMessage().contains("experiment type 'test-linear' cannot be captured"), e.getMessage());
            assertFalse(java.nio.file.Files.exists(out.resolve(Trainer.METRICS_FILE)));
        }
    }
}
