package dev.metaforge.plugins.meta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.data.ElementType;
import dev.metaforge.api.data.Idx;
import dev.metaforge.api.data.IdxArray;
import dev.metaforge.api.meta.TaskBatch;
import dev.metaforge.api.meta.TaskSampler;
import dev.metaforge.api.meta.TaskSamplerSpec;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.ExperimentSpec;
import dev.metaforge.api.train.Objective;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.plugins.core.CorePlugin;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Fashion-MNIST-style class split on generated IDX files (10 classes): meta-training episodes
 * over classes 0-4 of the training file, meta-test episodes over classes 5-9 of the test file.
 */
class FewShotClassSplitTest {
    private final SpecRegistry specs = SpecRegistry.of(List.of(new MetaPlugin(), new CorePlugin(), new TestModules()));
    private final Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);

    @TempDir
    Path dir;

    private BuildContext context;

    /** 10 classes x 6 examples of 4x4 ubyte images; every pixel of example i is 20 * label + (i / 10). */
    @BeforeEach
    void writeFiles() throws IOException {
        for (String prefix : List.of("train", "t10k")) {
            int n = 60;
            double[] images = new double[n * 16];
            double[] labels = new double[n];
            for (int i = 0; i < n; i++) {
                labels[i] = i % 10;
                for (int p = 0; p < 16; p++) {
                    images[i * 16 + p] = 20 * (i % 10) + i / 10;
                }
            }
            Idx.write(dir.resolve(prefix + "-images-idx3-ubyte.gz"), IdxArray.of(ElementType.UBYTE, new int[] {n, 4, 4}, images));
            Idx.write(dir.resolve(prefix + "-labels-idx1-ubyte.gz"), IdxArray.of(ElementType.UBYTE, new int[] {n}, labels));
        }
        context = new BuildContext(engine, specs, dir, 0);
    }

    private static String sampler(String prefix, String classes, String extra) {
        return "{\"type\": \"few-shot\", \"ways\": 5, \"shots\": 1, \"queries\": 2, \"classes\": " + classes + extra + ","
                + " \"dataset\": {\"type\": \"idx\", \"images\": \"" + prefix + "-images-idx3-ubyte.gz\","
                + " \"labels\": \"" + prefix + "-labels-idx1-ubyte.gz\", \"scale\": 1.0}}";
    }

    /** The original classes seen in a batch, read back from the pixel values. */
    private static Set<Integer> originalClasses(TaskBatch batch) {
        Set<Integer> seen = new HashSet<>();
        for (double[] values : List.of(batch.supportInputs().toDoubles(), batch.queryInputs().toDoubles())) {
            for (int i = 0; i < values.length; i += 16) {
                seen.add((int) values[i] / 20);
            }
        }
        return seen;
    }

    @Test
    void metaTrainOnClasses0To4AndMetaTestOn5To9() {
        TaskSampler train = specs.read(sampler("train", "[0, 1, 2, 3, 4]", ""), TaskSamplerSpec.class, "tasks").build(context);
        TaskSampler test = specs.read(sampler("t10k", "[5, 6, 7, 8, 9]", ""), TaskSamplerSpec.class, "evalSampler").build(context);
        try (Scope scope = Scope.open()) {
            TaskBatch a = train.sample(engine, 20, RandomStream.of(1));
            TaskBatch b = test.sample(engine, 20, RandomStream.of(1));
            assertEquals(Shape.of(20, 5, 16), a.supportInputs().shape());
            assertEquals(Set.of(0, 1, 2, 3, 4), originalClasses(a));
            assertEquals(Set.of(5, 6, 7, 8, 9), originalClasses(b));
        }
    }

    /** The split inside a whole experiment: a prototypical network builds, trains a step and evaluates. */
    @Test
    void aProtonetSpecWithTheSplitRuns() {
        String json = "{\"type\": \"protonet\", \"model\": {\"type\": \"test-mlp\", \"sizes\": [16, 8, 4], \"activation\": \"tanh\"},"
                + " \"tasks\": " + sampler("train", "[0, 1, 2, 3, 4]", "") + ", \"evalSampler\": " + sampler("t10k", "[5, 6, 7, 8, 9]", "")
                + ", \"metaBatch\": 2, \"evalTasks\": 3}";
        ExperimentSpec spec = specs.read(json, ExperimentSpec.class, "protonet.json");
        assertEquals(spec, specs.read(specs.write(spec), ExperimentSpec.class, "round trip"));
        Objective objective = spec.build(context);
        try (Scope scope = Scope.open()) {
            Params p = objective.init(RandomStream.of(0));
            assertTrue(Double.isFinite(objective.loss(p, 0, RandomStream.of(2)).item()));
            assertTrue(objective.evaluate(p).containsKey("accuracy"));
        }
    }

    @Test
    void imagesCanKeepAChannelAxisForConvolutions() {
        TaskSampler sampler = specs.read(sampler("train", "[0, 1, 2, 3, 4]", ", \"inputShape\": [1, 4, 4]"), TaskSamplerSpec.class, "x")
                .build(context);
        try (Scope scope = Scope.open()) {
            assertEquals(Shape.of(3, 5, 1, 4, 4), sampler.sample(engine, 3, RandomStream.of(0)).supportInputs().shape());
        }
        FewShotSpec both = assertInstanceOf(FewShotSpec.class,
                specs.read(sampler("train", "[0, 1, 2, 3, 4]", ", \"inputShape\": [16]"), TaskSamplerSpec.class, "x"));
        assertEquals(both, specs.read(specs.write(both), TaskSamplerSpec.class, "round trip"));
        SpecException conflict = assertThrows(SpecException.class, () -> specs.read(
                sampler("train", "[0, 1, 2, 3, 4]", ", \"inputShape\": [16], \"flatten\": true"), TaskSamplerSpec.class, "x"));
        assertTrue(conflict.getMessage().contains("\"inputShape\" or \"flatten\", not both"), conflict.getMessage());
        IllegalArgumentException size = assertThrows(IllegalArgumentException.class, () -> specs.read(
                sampler("train", "[0, 1, 2, 3, 4]", ", \"inputShape\": [1, 28, 28]"), TaskSamplerSpec.class, "x").build(context));
        assertTrue(size.getMessage().contains("cannot be laid out as [1, 28, 28]"), size.getMessage());
    }

    @Test
    void badClassListsAreClearErrors() {
        SpecException tooFew = assertThrows(SpecException.class,
                () -> specs.read(sampler("train", "[0, 1, 2, 3]", ""), TaskSamplerSpec.class, "tasks"));
        assertTrue(tooFew.getMessage().contains("5-way episodes need at least 5 classes, but field 'classes' lists 4"), tooFew.getMessage());
        SpecException twice = assertThrows(SpecException.class,
                () -> specs.read(sampler("train", "[0, 1, 2, 3, 3]", ""), TaskSamplerSpec.class, "tasks"));
        assertTrue(twice.getMessage().contains("lists a class twice"), twice.getMessage());
        IllegalArgumentException absent = assertThrows(IllegalArgumentException.class,
                () -> specs.read(sampler("train", "[5, 6, 7, 8, 11]", ""), TaskSamplerSpec.class, "tasks").build(context));
        assertTrue(absent.getMessage().contains("field 'classes': classes [11] do not occur"), absent.getMessage());
    }
}
