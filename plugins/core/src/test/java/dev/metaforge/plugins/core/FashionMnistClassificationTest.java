package dev.metaforge.plugins.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.train.TrainResult;
import dev.metaforge.api.train.TrainSpec;
import dev.metaforge.api.train.Trainer;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped example {@code examples/fashion-mnist-mlp.json} on the real Fashion-MNIST files of
 * Debian's {@code dataset-fashion-mnist}, when they are installed: a short run (400 of its steps,
 * on the pure-Java reference backend, about a minute) reaches a test accuracy of at least 0.8.
 * Run with {@code -Dmetaforge.excludedGroups=none -Dgroups=slow}.
 */
@Tag("slow")
class FashionMnistClassificationTest {
    private static final Path EXAMPLE = Path.of("..", "..", "examples", "fashion-mnist-mlp.json");

    @TempDir
    Path dir;

    @Test
    void theExampleMlpReachesEightyPercentOnFashionMnist() throws IOException {
        List<Path> files = List.of("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                "t10k-labels-idx1-ubyte.gz").stream().map(f -> Path.of(IdxSpec.FASHION_MNIST_DIR, f)).toList();
        assumeTrue(files.stream().allMatch(Files::isRegularFile),
                "Fashion-MNIST is not installed (" + files + "); apt-get install dataset-fashion-mnist to run this test");
        SpecRegistry specs = SpecRegistry.load(FashionMnistClassificationTest.class.getClassLoader());
        TrainSpec example = specs.read(EXAMPLE, TrainSpec.class).withSteps(400);
        StringWriter progress = new StringWriter();
        Trainer trainer = new Trainer(Engine.of(new ReferenceBackend(), DType.FLOAT32), specs, new PrintWriter(progress, true), false);
        TrainResult result = trainer.train(example, EXAMPLE.getParent(), dir.resolve("fashion-mnist"), false);
        assertEquals(400, result.steps());
        assertTrue(result.eval().get("accuracy") >= 0.8, "test accuracy after 400 steps: " + result.eval() + "\n" + progress);
    }
}
