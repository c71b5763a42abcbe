package dev.metaforge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.metaforge.api.plugin.MetaforgePlugin;
import dev.metaforge.api.spec.SpecType;
import dev.metaforge.api.spec.SpecValidation;
import dev.metaforge.api.train.TrainSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
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
}
