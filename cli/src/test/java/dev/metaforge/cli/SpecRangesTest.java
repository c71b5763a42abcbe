package dev.metaforge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.plugin.MetaforgePlugin;
import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.spec.SpecType;
import dev.metaforge.api.spec.SpecValidation;
import dev.metaforge.api.train.TrainSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every numeric field of every built-in spec type declares its range (issue 13, strict specs). */
class SpecRangesTest {

    @Test
    void everyNumericFieldOfEveryRegisteredSpecDeclaresARange() {
        List<String> undeclared = new ArrayList<>(SpecValidation.undeclaredRanges(TrainSpec.class));
        int types = 0;
        for (MetaforgePlugin plugin : ServiceLoader.load(MetaforgePlugin.class, getClass().getClassLoader())) {
            for (SpecType t : plugin.specTypes()) {
                types++;
                for (String field : SpecValidation.undeclaredRanges(t.type())) {
                    undeclared.add(plugin.name() + ": '" + t.name() + "' " + field);
                }
            }
        }
        assertEquals(List.of(), undeclared, "numeric spec fields without @Range (of " + types + " registered types)");
    }

    /** The declared ranges are not narrower than what we ship: every example spec reads and passes its checks. */
    @Test
    void everyShippedExampleIsWithinTheDeclaredRanges() throws IOException {
        Path examples = Path.of("..", "examples");
        SpecRegistry specs = SpecRegistry.load(getClass().getClassLoader());
        List<String> refused = new ArrayList<>();
        int read = 0;
        try (Stream<Path> files = Files.list(examples)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".json")).sorted().toList()) {
                try {
                    specs.read(file, TrainSpec.class);
                    read++;
                } catch (SpecException e) {
                    refused.add(file.getFileName() + ": " + e.getMessage());
                }
            }
        }
        assertFalse(read == 0, "no example specs found under " + examples.toAbsolutePath());
        assertEquals(List.of(), refused, "example specs refused");
    }

    /** A value beyond a newly declared range is refused at the field itself, with the type's words for it. */
    @Test
    void aLayerFieldOutOfRangeNamesItsJsonPath() throws IOException {
        String cnn = Files.readString(Path.of("..", "examples", "fashion-mnist-cnn.json"));
        String bad = cnn.replace("\"kernel\": 3, \"padding\": 1}", "\"kernel\": 3, \"padding\": 5000}");
        assertTrue(!bad.equals(cnn), "the example changed shape; update this test");
        SpecRegistry specs = SpecRegistry.load(getClass().getClassLoader());
        SpecException e = assertThrows(SpecException.class, () -> specs.read(bad, TrainSpec.class, "bad-cnn.json"));
        assertTrue(e.getMessage().contains("$.experiment.model.layers[0].padding"), e.getMessage());
        assertTrue(e.getMessage().contains("padding") && e.getMessage().contains("4096"), e.getMessage());
    }
}
