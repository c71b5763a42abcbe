package dev.metaforge.plugins.meta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.metaforge.api.nn.LayerInfo;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.TrainResult;
import dev.metaforge.api.train.TrainSpec;
import dev.metaforge.api.train.Trainer;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Fashion-MNIST CNN and Conv-4 examples read as documented and their networks map images
 * [N, 1, 28, 28] to what their experiment needs; the slow test meta-trains the Conv-4 prototypical
 * network on the real files (when installed) and checks it beats chance (0.2) by a wide margin on the
 * held-out classes 5-9.
 */
class FashionMnistExamplesTest {
    private static final Path EXAMPLES = Path.of("..", "..", "examples");
    private final SpecRegistry specs = SpecRegistry.load(getClass().getClassLoader());

    @TempDir
    Path dir;

    /** The model spec of an example's experiment, read back through the registry (the JSON path "experiment.model"). */
    private Module model(String file) throws IOException {
        var tree = specs.mapper().readTree(Files.readString(EXAMPLES.resolve(file)));
        specs.read(EXAMPLES.resolve(file), TrainSpec.class);
        return specs.read(tree.get("experiment").get("model").toString(), ModuleSpec.class, file + " $.experiment.model").build();
    }

    @Test
    void networksMapImagesToWhatTheirExperimentsNeed() throws IOException {
        Map<String, Integer> outputs = Map.of("fashion-mnist-cnn.json", 10, "protonet-fashion-mnist-conv4-1shot.json", 32,
                "protonet-fashion-mnist-conv4-5shot.json", 32, "maml-fashion-mnist-conv4-1shot.json", 5,
                "maml-fashion-mnist-conv4-5shot.json", 5);
        Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT32);
        for (Map.Entry<String, Integer> e : outputs.entrySet()) {
            try (Scope s = Scope.open()) {
                Module net = model(e.getKey());
                Tensor x = engine.uniform(Shape.of(2, 1, 28, 28), 0, 1, 3);
                Tensor y = net.apply(net.init(engine, RandomStream.of(1)), x);
                assertEquals(Shape.of(2, e.getValue()), y.shape(), e.getKey());
                List<String> kinds = net.structure().layers().stream().map(LayerInfo::kind).toList();
                assertTrue(kinds.contains("conv2d") && kinds.contains("batchnorm"), e.getKey() + ": " + kinds);
            }
        }
    }

    @Test
    @Tag("slow")
    void conv4PrototypicalNetworkBeatsChanceOnHeldOutClasses() throws IOException {
        List<Path> files = List.of("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz").stream()
                .map(f -> Path.of("/usr/share/datasets/fashion-mnist", f)).toList();
        assumeTrue(files.stream().allMatch(Files::isRegularFile),
                "Fashion-MNIST is not installed (" + files + "); apt-get install dataset-fashion-mnist to run this test");
        Path example = EXAMPLES.resolve("protonet-fashion-mnist-conv4-1shot.json");
        TrainSpec spec = specs.read(example, TrainSpec.class).withSteps(60);
        StringWriter progress = new StringWriter();
        Trainer trainer = new Trainer(Engine.of(new ReferenceBackend(), DType.FLOAT32), specs, new PrintWriter(progress, true), false);
        TrainResult result = trainer.train(spec, EXAMPLES, dir.resolve("protonet"), false);
        assertTrue(result.eval().get("accuracy") >= 0.5, "5-way 1-shot accuracy on classes 5-9: " + result.eval() + "\n" + progress);
    }
}
