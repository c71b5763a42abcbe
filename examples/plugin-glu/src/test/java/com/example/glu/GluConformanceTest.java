package com.example.glu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.tck.ComponentExamples;
import dev.metaforge.tck.ConformanceReport;
import dev.metaforge.tck.RuleResult;
import dev.metaforge.tck.RuleStatus;
import dev.metaforge.tck.TckProgress;
import dev.metaforge.tck.TckRunner;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The conformance kit's component rules on this plugin's example, run exactly as they run on the built-in
 * components: on the float64 reference backend here (a backend module's build runs them on its own backend).
 */
class GluConformanceTest {
    @Test
    void theGluExamplePassesTheComponentRules() {
        // The glob selects this plugin's one example, so the rules below cannot pass on nothing.
        assertEquals(1, ComponentExamples.select(ComponentExamples.load(getClass().getClassLoader()), "glu-example/*").size());
        TckRunner.Options options = TckRunner.Options.backend("reference")
                .withParameter(ComponentExamples.PARAMETER, "glu-example/*")
                .withRules(List.of("MODEL-FAMILY-*"));
        ConformanceReport report = new TckRunner(getClass().getClassLoader()).run(options, TckProgress.none());
        List<RuleResult> rules = report.rules();
        assertTrue(rules.size() >= 4, "the MODEL-FAMILY rules ran: " + report.headline());
        for (RuleResult rule : rules) {
            assertEquals(RuleStatus.PASS, rule.status(), rule.id() + ": " + rule.message());
        }
        assertTrue(report.conformant(), report.headline());
    }
}
