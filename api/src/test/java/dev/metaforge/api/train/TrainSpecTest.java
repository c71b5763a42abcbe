package dev.metaforge.api.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.spi.DType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class TrainSpecTest {
    private final SpecRegistry specs = TestExperiments.registry();
    private static final String EXPERIMENT = "{\"type\": \"test-linear\", \"features\": 2, \"batch\": 4, \"anchorEvery\": 3, \"anchorWeight\": 0.1}";
    private static final String OPTIMIZER = "{\"type\": \"test-adam\", \"learningRate\": 0.01}";

    private TrainSpec read(String json) {
        return specs.read(json, TrainSpec.class, "spec.json");
    }

    @Test
    void readsEveryFieldAndFillsDefaults() {
        TrainSpec full = read("{\"experiment\": " + EXPERIMENT + ", \"optimizer\": " + OPTIMIZER + ", \"steps\": 50, \"seed\": 9,"
                + " \"dtype\": \"float64\", \"logEvery\": 5, \"evalEvery\": 10, \"checkpointEvery\": 25}");
        assertEquals(new TrainSpec(new TestExperiments.LinearExperiment(2, 4, 3, 0.1), new TestExperiments.AdamSpec(0.01),
                50, 9, "float64", 5, 10, 25), full);
        assertEquals(DType.FLOAT64, full.engineDType());

        TrainSpec minimal = read("{\"experiment\": " + EXPERIMENT + ", \"optimizer\": " + OPTIMIZER + ", \"steps\": 50}");
        assertEquals(0, minimal.seed());
        assertEquals("float32", minimal.dtype());
        assertEquals(DType.FLOAT32, minimal.engineDType());
        assertEquals(TrainSpec.DEFAULT_LOG_EVERY, minimal.logEvery());
        assertEquals(0, minimal.evalEvery());
        assertEquals(0, minimal.checkpointEvery());
        // the resolved spec written to spec.json reads back to the same value
        assertEquals(full, read(specs.write(full)));
        assertEquals(minimal, read(specs.write(minimal)));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "missing steps        | \"seed\": 1                                  | field 'steps' is required",
        "zero steps           | \"steps\": 0                                 | field 'steps' must be a positive number",
        "bad dtype            | \"steps\": 5, \"dtype\": \"int8\"            | field 'dtype' must be \"float32\" or \"float64\", got \"int8\"",
        "bad logEvery         | \"steps\": 5, \"logEvery\": 0                | field 'logEvery' must be > 0",
        "negative evalEvery   | \"steps\": 5, \"evalEvery\": -1              | field 'evalEvery' must be >= 0",
        "negative checkpoints | \"steps\": 5, \"checkpointEvery\": -2        | field 'checkpointEvery' must be >= 0",
        "unknown field        | \"steps\": 5, \"stepz\": 5                   | unknown field 'stepz' in the training spec",
        "steps not a number   | \"steps\": \"many\"                          | $.steps"})
    void invalidTopLevelFieldsAreNamed(String name, String fields, String expected) {
        SpecException e = assertThrows(SpecException.class,
                () -> read("{\"experiment\": " + EXPERIMENT + ", \"optimizer\": " + OPTIMIZER + ", " + fields + "}"));
        assertTrue(e.getMessage().startsWith("spec.json at $"), e.getMessage());
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }

    @Test
    void missingAndUnknownComponentsNameThePathAndTheKnownTypes() {
        SpecException missing = assertThrows(SpecException.class, () -> read("{\"optimizer\": " + OPTIMIZER + ", \"steps\": 5}"));
        assertTrue(missing.getMessage().contains("field 'experiment' is required"), missing.getMessage());

        SpecException unknown = assertThrows(SpecException.class,
                () -> read("{\"experiment\": {\"type\": \"nope\"}, \"optimizer\": " + OPTIMIZER + ", \"steps\": 5}"));
        assertEquals("$.experiment", unknown.jsonPath());
        assertTrue(unknown.getMessage().contains("unknown type 'nope'") && unknown.getMessage().contains("[test-linear]"),
                unknown.getMessage());

        SpecException field = assertThrows(SpecException.class,
                () -> read("{\"experiment\": " + EXPERIMENT + ", \"optimizer\": {\"type\": \"test-adam\", \"learningRate\": 0.01, \"lr\": 1}, \"steps\": 5}"));
        assertEquals("$.optimizer.lr", field.jsonPath());
        assertTrue(field.getMessage().contains("unknown field 'lr'") && field.getMessage().contains("learningRate"), field.getMessage());
    }

    @Test
    void trajectoryHashIgnoresStepsAndScheduleButNotWhatChangesTheRun() {
        TrainSpec base = read("{\"experiment\": " + EXPERIMENT + ", \"optimizer\": " + OPTIMIZER + ", \"steps\": 50}");
        String hash = base.trajectoryHash(specs);
        assertEquals(64, hash.length());
        assertEquals(hash, base.withSteps(500).withSchedule(1, 2, 3).trajectoryHash(specs));
        assertNotEquals(hash, base.withSeed(1).trajectoryHash(specs));
        assertNotEquals(hash, base.withDtype("float64").trajectoryHash(specs));
        TrainSpec otherLr = new TrainSpec(base.experiment(), new TestExperiments.AdamSpec(0.02), 50, 0, "float32", 100, 0, 0);
        assertNotEquals(hash, otherLr.trajectoryHash(specs));
    }
}
