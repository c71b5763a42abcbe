package dev.metaforge.plugins.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.data.ElementType;
import dev.metaforge.api.data.IdxFormatException;
import dev.metaforge.api.data.LabelledDataset;
import dev.metaforge.api.data.LabelledDatasetSpec;
import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The labelled dataset specs ({@code idx}, {@code image-folder}, {@code gaussian-clusters}) through the registry. */
class DatasetSpecsTest {
    private final SpecRegistry specs = SpecRegistry.load(DatasetSpecsTest.class.getClassLoader());

    @TempDir
    Path dir;

    private BuildContext context() {
        return new BuildContext(Engine.of(new ReferenceBackend(), DType.FLOAT32), specs, dir, 0);
    }

    private LabelledDatasetSpec read(String json) {
        return specs.read(json, LabelledDatasetSpec.class, "spec.json");
    }

    @Test
    void registersTheDatasetNames() {
        assertEquals(List.of("gaussian-clusters", "idx", "image-folder"), specs.names(LabelledDatasetSpec.class));
    }

    /** The JSON of before the merge still reads: same type names, same fields. */
    @Test
    void idxFilesReadThroughTheSpecAsBytes() throws IOException {
        TestImages.write(dir, "train", 12, 3, 6, 1);
        LabelledDatasetSpec spec = read("{\"type\": \"idx\", \"images\": \"train-images-idx3-ubyte.gz\","
                + " \"labels\": \"train-labels-idx1-ubyte.gz\", \"scale\": 1.0}");
        LabelledDataset data = spec.build(context());
        assertEquals(12, data.size());
        assertEquals(Shape.of(6, 6), data.exampleShape());
        assertEquals(ElementType.UBYTE, data.elementType());
        assertEquals(12 * 36, data.storageBytes());
        assertEquals(2, data.label(5));
        assertEquals(spec, read(specs.write(spec)), "write then read gives the same spec");
        LabelledDataset scaled = read("{\"type\": \"idx\", \"images\": \"train-images-idx3-ubyte.gz\","
                + " \"labels\": \"train-labels-idx1-ubyte.gz\"}").build(context());
        assertEquals(data.example(3)[7] / 255, scaled.example(3)[7], 1e-15, "default scale 1/255");
    }

    @Test
    void withoutPathsIdxMeansFashionMnistFromDebiansPackage() throws IOException {
        IdxSpec train = (IdxSpec) read("{\"type\": \"idx\"}");
        assertEquals(IdxSpec.fashionMnist("train"), train);
        assertEquals("test", ((IdxSpec) read("{\"type\": \"idx\", \"split\": \"test\"}")).split());
        assertEquals(train, read(specs.write(train)), "the resolved spec reads back");
        // A directory standing in for /usr/share/datasets/fashion-mnist
        TestImages.write(dir, "t10k", 9, 3, 4, 2);
        LabelledDataset test = IdxSpec.fashionMnist("test").build(context(), dir);
        assertEquals(9, test.size());

        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> IdxSpec.fashionMnist("train").build(context(), dir));
        String m = missing.getMessage();
        assertTrue(m.contains(dir.resolve("train-images-idx3-ubyte.gz").toString()) && m.contains(dir.resolve("train-labels-idx1-ubyte.gz").toString())
                && m.contains("apt-get install dataset-fashion-mnist") && m.contains("\"images\" and \"labels\""), m);
    }

    @Test
    void badIdxSpecsAreClearErrors() {
        SpecException one = assertThrows(SpecException.class, () -> read("{\"type\": \"idx\", \"images\": \"a.gz\"}"));
        assertTrue(one.getMessage().contains("give both \"images\" and \"labels\""), one.getMessage());
        SpecException split = assertThrows(SpecException.class,
                () -> read("{\"type\": \"idx\", \"images\": \"a\", \"labels\": \"b\", \"split\": \"test\"}"));
        assertTrue(split.getMessage().contains("'split'"), split.getMessage());
        SpecException name = assertThrows(SpecException.class, () -> read("{\"type\": \"idx\", \"split\": \"validation\"}"));
        assertTrue(name.getMessage().contains("\"train\" or \"test\""), name.getMessage());
        IllegalArgumentException absent = assertThrows(IllegalArgumentException.class,
                () -> read("{\"type\": \"idx\", \"images\": \"nope-images.gz\", \"labels\": \"nope-labels.gz\"}").build(context()));
        assertTrue(absent.getMessage().contains(dir.resolve("nope-images.gz").toString()) && absent.getMessage().contains("do not exist"),
                absent.getMessage());
    }

    @Test
    void aCorruptFileIsAnIdxFormatErrorNamingTheFile() throws IOException {
        TestImages.write(dir, "train", 12, 3, 6, 1);
        Files.write(dir.resolve("bad-labels.idx"), new byte[] {0, 0, 8, 1, 0, 0, 0, 12, 1, 2});
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> read("{\"type\": \"idx\","
                + " \"images\": \"train-images-idx3-ubyte.gz\", \"labels\": \"bad-labels.idx\"}").build(context()));
        assertTrue(e.getCause() instanceof IdxFormatException, e.toString());
        assertTrue(e.getMessage().contains(dir.resolve("bad-labels.idx").toString()) && e.getMessage().contains("truncated"), e.getMessage());
        UncheckedIOException limit = assertThrows(UncheckedIOException.class, () -> read("{\"type\": \"idx\","
                + " \"images\": \"train-images-idx3-ubyte.gz\", \"labels\": \"train-labels-idx1-ubyte.gz\", \"maxBytes\": 100}")
                .build(context()));
        assertTrue(limit.getMessage().contains("more than 100 bytes"), limit.getMessage());
    }

    @Test
    void gaussianClustersAndImageFoldersStillRead() {
        LabelledDataset clusters = read("{\"type\": \"gaussian-clusters\", \"fromClass\": 2, \"toClass\": 5, \"examplesPerClass\": 3}")
                .build(context());
        assertEquals(9, clusters.size());
        assertEquals(Shape.of(16), clusters.exampleShape());
        assertEquals(2, clusters.label(0));
        SpecException size = assertThrows(SpecException.class, () -> read("{\"type\": \"image-folder\", \"root\": \"x\", \"size\": 100000}"));
        assertTrue(size.getMessage().contains("'size' must be in [1, 4096]"), size.getMessage());
    }
}
