package dev.metaforge.api.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.preflight.MemoryBudget;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13, safe run directories: two runs into one --out both succeeded (check-then-act, no lock),
 * and a spec failing before step 1 left a partial directory behind.
 */
class RunDirectoryTest {
    @TempDir
    Path dir;

    private final SpecRegistry specs = TestExperiments.registry();

    private Trainer trainer(StringWriter progress) {
        return new Trainer(Engine.of(new ReferenceBackend(), DType.FLOAT64), specs).withListener(TrainingListener.log(new PrintWriter(progress, true)));
    }

    private static TrainSpec spec(int steps) {
        return TrainSpec.of(new TestExperiments.LinearExperiment(2, 8, 1000, 0.0), new TestExperiments.AdamSpec(0.05), steps);
    }

    /** Holds the lock of args[0] until its standard input closes, printing "locked" once it has it. */
    public static final class HoldLock {
        public static void main(String[] args) throws IOException {
            try (RunDirectory run = RunDirectory.acquire(Path.of(args[0]))) {
                System.out.println("locked");
                System.out.flush();
                while (System.in.read() >= 0) {
                    // wait for the parent to close our input
                }
            }
        }
    }

    @Test
    void aSecondRunInAnotherProcessFailsNamingTheHoldersPid() throws Exception {
        Path out = dir.resolve("shared");
        Process holder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), HoldLock.class.getName(), out.toString())
                .redirectErrorStream(true).start();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8))) {
            assertEquals("locked", lines.readLine());
            TrainingException e = assertThrows(TrainingException.class, () -> RunDirectory.acquire(out));
            assertTrue(e.getMessage().contains("is in use by another run (pid " + holder.pid() + ","), e.getMessage());

            StringWriter progress = new StringWriter();
            TrainingException viaTrainer = assertThrows(TrainingException.class, () -> trainer(progress).train(spec(3), dir, out, false));
            assertTrue(viaTrainer.getMessage().contains("pid " + holder.pid()), viaTrainer.getMessage());
            try (var files = Files.list(out)) {
                assertEquals(List.of(RunDirectory.LOCK_FILE), files.map(p -> p.getFileName().toString()).toList(),
                        "the refused run wrote nothing");
            }
        } finally {
            holder.getOutputStream().close();
            assertTrue(holder.waitFor(30, TimeUnit.SECONDS));
        }
        // the lock died with the holder: the directory is free again
        trainer(new StringWriter()).train(spec(3), dir, out, false);
        assertTrue(Files.isRegularFile(out.resolve(Trainer.CHECKPOINT_FILE)));
    }

    @Test
    void aSecondRunInThisProcessFailsToo() throws IOException {
        Path out = dir.resolve("mine");
        try (RunDirectory first = RunDirectory.acquire(out)) {
            TrainingException e = assertThrows(TrainingException.class, () -> RunDirectory.acquire(out));
            assertTrue(e.getMessage().contains("pid " + ProcessHandle.current().pid()), e.getMessage());
        }
        try (RunDirectory again = RunDirectory.acquire(out)) {
            assertEquals(out.toAbsolutePath(), again.dir());
        }
    }

    @Test
    void aRunFailingBeforeItsFirstStepRemovesWhatItCreatedAndOnlyThat() throws IOException {
        TrainSpec crashing = new TrainSpec(new TestExperiments.LinearExperiment(2, 8, 1000, 0.0).withCrashAt(0),
                new TestExperiments.AdamSpec(0.05), 5, 0, "float64", 1, 0, 0);
        Path out = dir.resolve("a").resolve("b").resolve("run");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> trainer(new StringWriter()).train(crashing, dir, out, false));
        assertTrue(e.getMessage().contains("simulated crash at step 0"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("a")), "the directories this run created are gone");

        Path existing = dir.resolve("existing");
        Files.createDirectories(existing);
        Files.writeString(existing.resolve("notes.txt"), "mine");
        assertThrows(IllegalStateException.class, () -> trainer(new StringWriter()).train(crashing, dir, existing, false));
        try (var files = Files.list(existing)) {
            assertEquals(List.of("notes.txt"), files.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void aRunFailingAfterItsFirstStepKeepsItsFiles() throws IOException {
        TrainSpec crashing = new TrainSpec(new TestExperiments.LinearExperiment(2, 8, 1000, 0.0).withCrashAt(3),
                new TestExperiments.AdamSpec(0.05), 5, 0, "float64", 1, 0, 2);
        Path out = dir.resolve("kept");
        assertThrows(IllegalStateException.class, () -> trainer(new StringWriter()).train(crashing, dir, out, false));
        assertTrue(Files.isRegularFile(out.resolve(Trainer.CHECKPOINT_FILE)), "the checkpoint of step 2 stays for --resume");
    }

    @Test
    void aSpecRefusedByThePreflightCreatesNoDirectory() {
        TrainSpec big = TrainSpec.of(new TestExperiments.LinearExperiment(1 << 14, 1 << 10, 1000, 0.0), new TestExperiments.AdamSpec(0.05), 5);
        Path out = dir.resolve("never");
        PreflightException e = assertThrows(PreflightException.class,
                () -> trainer(new StringWriter()).withMemoryBudget(MemoryBudget.parse("64m")).train(big, dir, out, false));
        assertTrue(e.getMessage().contains("memory budget of 64.0 MiB"), e.getMessage());
        assertFalse(Files.exists(out));
    }
}
