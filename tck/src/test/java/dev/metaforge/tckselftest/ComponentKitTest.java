package dev.metaforge.tckselftest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.plugin.MetaforgePlugin;
import dev.metaforge.tck.ComponentExamples;
import dev.metaforge.tck.ConformanceReport;
import dev.metaforge.tck.RuleResult;
import dev.metaforge.tck.RuleStatus;
import dev.metaforge.tck.TckProgress;
import dev.metaforge.tck.TckRunner;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The component conformance kit on a third party's plugin ({@link AcmePlugin}), shown to the kit the
 * way {@code metaforge tck --plugins} does: through a class loader of its own (here a URLClassLoader
 * over a folder holding only the plugin's {@code META-INF/services} file), so no other run sees it.
 * A correct custom module passes every MODEL-FAMILY rule; one whose backward is wrong FAILs
 * MODEL-FAMILY-2, and the report names the example and its plugin.
 */
class ComponentKitTest {
    private static final List<String> FAMILY_RULES = List.of("MODEL-FAMILY-1", "MODEL-FAMILY-2", "MODEL-FAMILY-3", "MODEL-FAMILY-4");

    @TempDir
    Path dir;

    /** A class loader that adds {@code plugin} to the plugins the test class path already declares. */
    private ClassLoader loaderWith(Class<? extends MetaforgePlugin> plugin) {
        try {
            Path services = dir.resolve("META-INF/services");
            Files.createDirectories(services);
            Files.writeString(services.resolve(MetaforgePlugin.class.getName()), plugin.getName() + "\n");
            return new URLClassLoader(new URL[] {dir.toUri().toURL()}, ComponentKitTest.class.getClassLoader());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private ConformanceReport run(String components, List<String> rules) {
        return new TckRunner(loaderWith(AcmePlugin.class)).run(TckRunner.Options.backend("reference").withRules(rules)
                .withParameter(ComponentExamples.PARAMETER, components), TckProgress.none());
    }

    private static Map<String, RuleStatus> statuses(ConformanceReport report) {
        Map<String, RuleStatus> out = new LinkedHashMap<>();
        for (RuleResult r : report.rules()) {
            out.put(r.id(), r.status());
        }
        return out;
    }

    @Test
    void aCorrectThirdPartyComponentPassesEveryFamilyRule() {
        ConformanceReport report = run("acme/" + AcmePlugin.CORRECT, List.of("MODEL-FAMILY-*", "MODEL-HOST-1"));
        Map<String, RuleStatus> expected = new LinkedHashMap<>();
        for (String id : FAMILY_RULES) {
            expected.put(id, RuleStatus.PASS);
        }
        expected.put("MODEL-HOST-1", RuleStatus.PASS);
        assertEquals(expected, statuses(report), report::toMarkdown);
        for (RuleResult r : report.rules()) {
            assertEquals(1, r.cases(), r.id() + " ran exactly the selected example");
            // The report says where each example came from.
            assertTrue(r.figures().contains("1 component examples: " + AcmePlugin.CORRECT + " [plugin acme]"),
                    r.id() + ": " + r.figures());
        }
    }

    @Test
    void aWrongBackwardFailsFiniteDifferencesNamingTheExampleAndPlugin() {
        ConformanceReport report = run("acme/*", FAMILY_RULES);
        RuleResult fd = report.rule("MODEL-FAMILY-2").orElseThrow();
        assertEquals(RuleStatus.FAIL, fd.status(), report::toMarkdown);
        assertEquals(2, fd.cases());
        assertEquals(1, fd.failedCases(), fd.message());
        assertTrue(fd.message().contains(AcmePlugin.BROKEN + " [plugin acme]"), fd.message());
        assertTrue(fd.message().contains("does not match finite differences"), fd.message());
        assertFalse(fd.message().contains("[" + AcmePlugin.CORRECT + " [plugin acme]]"), "the correct twin passes: " + fd.message());
        assertEquals(ConformanceReport.Verdict.NOT_CONFORMANT, report.verdict());
        // A wrong backward is wrong on every backend alike, so the reference comparison cannot see it; determinism
        // and the spec round trip have nothing to do with it. Only the finite differences catch it.
        for (String id : List.of("MODEL-FAMILY-1", "MODEL-FAMILY-3", "MODEL-FAMILY-4")) {
            assertEquals(RuleStatus.PASS, report.rule(id).orElseThrow().status(), () -> id + ": " + report.toMarkdown());
        }
    }

    @Test
    void aGlobThatMatchesNothingFailsTheRulesListingTheExamples() {
        ConformanceReport report = run("glu*", List.of("MODEL-FAMILY-1"));
        RuleResult r = report.rule("MODEL-FAMILY-1").orElseThrow();
        assertEquals(RuleStatus.FAIL, r.status());
        assertTrue(r.message().contains("metaforge.tck.components glob 'glu*' matches no component example"), r.message());
        assertTrue(r.message().contains("acme/" + AcmePlugin.CORRECT), r.message());
        assertTrue(r.message().contains("hyper/hypernetwork mip"), r.message());
        assertFalse(r.message().contains("java.lang"), "a configuration error, not an unexpected exception: " + r.message());
    }

    @Test
    void anExampleWithAnUnknownTypeFailsNamingTheExamplePluginAndType() {
        ConformanceReport report = new TckRunner(loaderWith(MisspeltPlugin.class)).run(TckRunner.Options.backend("reference")
                .withRules(List.of("MODEL-FAMILY-1")).withParameter(ComponentExamples.PARAMETER, "misspelt/*"), TckProgress.none());
        RuleResult r = report.rule("MODEL-FAMILY-1").orElseThrow();
        assertEquals(RuleStatus.FAIL, r.status());
        assertTrue(r.message().contains("component example 'typo' of plugin 'misspelt' at $.model"), r.message());
        assertTrue(r.message().contains("unknown type 'acme-scal'"), r.message());
        assertFalse(r.message().contains("Exception"), "no Java class names: " + r.message());
    }

    /** An example naming a module type no plugin registers. */
    public static final class MisspeltPlugin implements MetaforgePlugin {
        @Override
        public String name() {
            return "misspelt";
        }

        @Override
        public List<dev.metaforge.api.plugin.ComponentExample> conformanceExamples() {
            return List.of(dev.metaforge.api.plugin.ComponentExample.of("typo", "{\"type\": \"regression\", \"model\":"
                    + " {\"type\": \"acme-scal\", \"features\": 1}, \"task\": {\"function\": \"sin\", \"batch\": 5, \"evalPoints\": 5}}"));
        }
    }

    @Test
    void builtInExamplesComeFromTheirPlugins() {
        Map<String, String> byName = ComponentExamples.load(ComponentKitTest.class.getClassLoader()).stream()
                .collect(Collectors.toMap(e -> e.example().name(), ComponentExamples.Entry::plugin));
        // The closed list the kit used to carry, now declared by the plugins themselves.
        Map<String, String> expected = new LinkedHashMap<>();
        for (String n : List.of("hypernetwork hmlp", "hypernetwork mip", "hypernetwork chunked", "hypernetwork recurrent",
                "continual task-conditioned", "continual hyperinterval", "neumeta implicit weights", "ghn graph hypernetwork mlp",
                "ghn graph hypernetwork cnn")) {
            expected.put(n, "hyper");
        }
        for (String n : List.of("maml (second order, 2 inner steps)", "first-order maml", "meta-sgd", "anil", "reptile",
                "prototypical networks")) {
            expected.put(n, "meta");
        }
        expected.put("regression", "core");
        expected.put("regression through layernorm, residual, batchnorm and dropout layers", "core");
        for (Map.Entry<String, String> e : expected.entrySet()) {
            assertEquals(e.getValue(), byName.get(e.getKey()), e.getKey());
        }
        List<String> surrogate = ComponentExamples.load(ComponentKitTest.class.getClassLoader()).stream()
                .filter(e -> !e.example().exactGradient()).map(e -> e.example().name()).toList();
        assertEquals(List.of("first-order maml", "reptile"), surrogate);
    }

    @Test
    void selectMatchesNamesAndQualifiedNames() {
        List<ComponentExamples.Entry> all = ComponentExamples.load(loaderWith(AcmePlugin.class));
        assertEquals(all, ComponentExamples.select(all, null));
        assertEquals(all, ComponentExamples.select(all, " "));
        assertEquals(List.of("hypernetwork hmlp", "hypernetwork mip", "hypernetwork chunked", "hypernetwork recurrent"),
                ComponentExamples.select(all, "hypernetwork *").stream().map(e -> e.example().name()).toList());
        assertEquals(List.of(AcmePlugin.CORRECT, AcmePlugin.BROKEN, "regression"),
                ComponentExamples.select(all, "acme/*, core/regression").stream().map(e -> e.example().name()).toList());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ComponentExamples.select(all, "acme/nope"));
        assertTrue(e.getMessage().contains("'acme/nope' matches no component example"), e.getMessage());
    }

    @Test
    void aPluginWithDuplicateExampleNamesIsRejectedByName() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ComponentExamples.load(loaderWith(DuplicateExamplesPlugin.class)));
        assertTrue(e.getMessage().contains("plugin 'duplicates' declares two conformance examples named 'twice'"), e.getMessage());
    }

    /** Declares the same example name twice. */
    public static final class DuplicateExamplesPlugin implements MetaforgePlugin {
        @Override
        public String name() {
            return "duplicates";
        }

        @Override
        public List<dev.metaforge.api.plugin.ComponentExample> conformanceExamples() {
            String json = "{\"type\": \"regression\"}";
            return List.of(dev.metaforge.api.plugin.ComponentExample.of("twice", json),
                    dev.metaforge.api.plugin.ComponentExample.of("twice", json));
        }
    }
}
