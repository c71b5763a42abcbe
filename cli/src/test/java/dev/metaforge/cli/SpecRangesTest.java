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
    /**
     * Types that arrived while the range annotations were being written (layers, classification, MoE,
     * metanetworks): their fields are still checked by hand in their constructors, but not yet declared
     * with {@code @Range}. Listed by name so that every new type must declare its ranges; remove an entry
     * when its fields are annotated.
     */
    static final java.util.Set<String> NOT_YET_ANNOTATED = java.util.Set.of(
            "core: 'conv2d'",
            "core: 'maxpool2d'",
            "core: 'avgpool2d'",
            "core: 'batchnorm'",
            "core: 'layernorm'",
            "core: 'dropout'",
            "core: 'embedding'",
            "core: 'flatten'",
            "core: 'attention'",
            "core: 'transformer-block'",
            "core: 'classification'",
            "meta: 'few-shot'",
            "moe: 'moe'",
            "moe: 'dynamic-dino'",
            "moe: 'read-me'",
            "moe: 'topk'",
            "moe: 'switch'",
            "moe: 'dropless'",
            "moe: 'noisy-topk'",
            "moe: 'expert-choice'",
            "moe: 'aux-free'",
            "moe: 'moe-classification'",
            "moe: 'mixer'",
            "moe: 'mixture-of-supernets'",
            "moe: 'meta-dmoe'",
            "metanet: 'gnn'",
            "metanet: 'nfn'",
            "metanet: 'accuracy-prediction'",
            "metanet: 'meta-pruning'");

    @Test
    void everyNumericFieldOfEveryRegisteredSpecDeclaresARange() {
        List<String> undeclared = new ArrayList<>(SpecValidation.undeclaredRanges(TrainSpec.class));
        int types = 0;
        for (MetaforgePlugin plugin : ServiceLoader.load(MetaforgePlugin.class, getClass().getClassLoader())) {
            for (SpecType t : plugin.specTypes()) {
                types++;
                String key = plugin.name() + ": '" + t.name() + "'";
                if (NOT_YET_ANNOTATED.contains(key)) {
                    continue;
                }
                for (String field : SpecValidation.undeclaredRanges(t.type())) {
                    undeclared.add(key + " " + field);
                }
            }
        }
        assertEquals(List.of(), undeclared, "numeric spec fields without @Range (of " + types + " registered types)");
    }
}
