package dev.metaforge.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.metaforge.api.preflight.MemoryBudget;
import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.train.Preflight;
import dev.metaforge.api.train.TrainSpec;
import dev.metaforge.backend.reference.ReferenceBackend;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The spec reader, through build: any text is read as a training spec ({@link SpecRegistry#read}),
 * and what reads is built and run for one step and one evaluation on the shape-only backend
 * ({@link Preflight}), exactly as {@code metaforge train} does before it creates anything. The only
 * documented outcome of bad input is a {@link SpecException} (a {@code PreflightException} is one);
 * anything else thrown is a finding.
 *
 * <p>Inputs naming files outside an empty sandbox directory ('/', '\', "..") are skipped: the
 * readers of data files have their own targets ({@link IdxFuzzTest}, {@link SafetensorsFuzzTest}).
 */
class SpecFuzzTest {
    /** Small enough that a spec asking for much memory stops at once, large enough for every seed. */
    private static final MemoryBudget BUDGET = new MemoryBudget(64L << 20, "fuzzing budget");
    /** Bounds the work of one input (build, a step and an evaluation) to well under a second. */
    private static final long MAX_KERNEL_CALLS = 200_000;

    private final SpecRegistry specs = SpecRegistry.load(SpecFuzzTest.class.getClassLoader());
    private final ReferenceBackend backend = new ReferenceBackend();
    private final Path sandbox;
    private final Outcomes outcomes = new Outcomes("spec reader through build");

    SpecFuzzTest() {
        try {
            sandbox = Files.createTempDirectory("metaforge-spec-fuzz");
            sandbox.toFile().deleteOnExit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FuzzTest(maxDuration = "10m")
    void specThroughBuild(byte[] input) {
        String json = new String(input, StandardCharsets.UTF_8);
        if (json.indexOf('/') >= 0 || json.indexOf('\\') >= 0 || json.contains("..")) {
            outcomes.count("skipped (names a path)");
            return;
        }
        TrainSpec spec;
        try {
            spec = specs.read(json, TrainSpec.class, "fuzz.json");
        } catch (SpecException expected) {
            outcomes.count("refused when read");
            return;
        }
        try {
            Preflight.check(spec, specs, sandbox, backend, BUDGET, "fuzz.json", MAX_KERNEL_CALLS);
            outcomes.count("built and ran a step");
        } catch (SpecException expected) {
            // a spec refused with its path: the documented outcome
            outcomes.count("refused by the pre-flight (" + expected.getClass().getSimpleName() + ")");
        }
    }
}
