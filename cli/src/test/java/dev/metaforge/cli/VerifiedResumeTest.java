package dev.metaforge.cli;

import static dev.metaforge.cli.TrainCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.cli.TrainCommandTest.Run;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 13: a flipped bit in a checkpoint's parameters was resumed silently; now --resume and eval refuse it (exit 2). */
class VerifiedResumeTest {
    @TempDir
    Path dir;

    @Test
    void aFlippedBitInTheParametersStopsResumeAndEval() throws Exception {
        Path spec = dir.resolve("quadratic.json");
        Files.writeString(spec, TrainCommandTest.SPEC);
        Path out = dir.resolve("out");
        Run first = run("train", spec.toString(), "--backend", "reference", "--out", out.toString(), "--steps", "15");
        assertEquals(0, first.exitCode(), first.err());

        Path checkpoint = out.resolve("checkpoint.safetensors");
        byte[] bytes = Files.readAllBytes(checkpoint);
        int dataStart = (int) (8 + ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong());
        bytes[dataStart + 3] ^= 0x10; // a bit of the first parameter's value
        Files.write(checkpoint, bytes);

        Run resumed = run("train", spec.toString(), "--backend", "reference", "--out", out.toString(), "--resume");
        assertEquals(2, resumed.exitCode(), resumed.err());
        assertTrue(resumed.err().contains(checkpoint + ": the data section does not match its SHA-256"), resumed.err());
        Run eval = run("eval", spec.toString(), "--backend", "reference", "--checkpoint", checkpoint.toString());
        assertEquals(2, eval.exitCode(), eval.err());
        assertTrue(eval.err().contains("does not match its SHA-256"), eval.err());
    }
}
