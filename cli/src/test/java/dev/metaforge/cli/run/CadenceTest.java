package dev.metaforge.cli.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.train.TrainSpec;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class CadenceTest {
    private final SpecRegistry specs = SpecRegistry.load(CadenceTest.class.getClassLoader());

    @Test
    void fewerStepsThanTheSpecsCadenceAllowsGetADenserOneAndANote() {
        // examples/mip-loss-weighting.json: 2000 steps, logEvery 100, evalEvery 100.
        TrainSpec spec = specs.read(Path.of("../examples/mip-loss-weighting.json"), TrainSpec.class);
        Cadence.Rescaled r = Cadence.withSteps(spec, 500);
        assertEquals(500, r.spec().steps());
        assertEquals(25, r.spec().logEvery()); // 500 / 20
        assertEquals(25, r.spec().evalEvery());
        assertEquals(spec.checkpointEvery(), r.spec().checkpointEvery());
        assertEquals(spec.trajectoryHash(specs), r.spec().trajectoryHash(specs), "same trajectory");
        assertTrue(r.note().orElseThrow().contains("logging every 25 steps instead of 100"), r.note().toString());
    }

    @Test
    void enoughPointsOrEvaluationOnlyAtTheEndAreKept() {
        TrainSpec spec = specs.read(Path.of("../examples/mip-loss-weighting.json"), TrainSpec.class);
        Cadence.Rescaled r = Cadence.withSteps(spec, 4000);
        assertEquals(100, r.spec().logEvery());
        assertTrue(r.note().isEmpty());
        Cadence.Rescaled endOnly = Cadence.withSteps(spec.withSchedule(100, 0, 0), 300);
        assertEquals(15, endOnly.spec().logEvery());
        assertEquals(0, endOnly.spec().evalEvery());
        assertEquals(1, Cadence.withSteps(spec, 7).spec().logEvery(), "never below one step");
    }
}
