package dev.metaforge.tck;

import static java.util.Objects.requireNonNull;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage;

import dev.metaforge.spi.BackendProvider;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.platform.engine.FilterResult;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.PostDiscoveryFilter;
import org.junit.platform.engine.discovery.ClassNameFilter;
import org.junit.platform.launcher.EngineFilter;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherConfig;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * Runs the whole kit outside Maven, through the JUnit Platform launcher, and returns the report.
 * Used by {@code metaforge tck}; the equivalent of a backend module's conformance suite.
 *
 * <pre>{@code
 * ConformanceReport report = new TckRunner(getClass().getClassLoader())
 *         .run(TckRunner.Options.backend("djl"), (rule, i, n) -> System.err.println("[" + i + "/" + n + "] " + rule.id()));
 * report.writeTo(Path.of("tck-report"));
 * }</pre>
 *
 * <p>The loader is also where the kit finds plugins: their spec types, and the component examples
 * the {@code MODEL-FAMILY-*} rules run ({@link ComponentExamples}); a loader that adds a plugin jar
 * puts its components under test, and {@code .withParameter(ComponentExamples.PARAMETER, "my-plugin/*")}
 * runs only those.
 *
 * <p>Rule classes are found like the suite engine finds them: classes in {@value #PACKAGE} (and
 * below) whose names match JUnit's standard pattern (e.g. {@code KernelConformanceTests}).
 */
public final class TckRunner {
    /** The package holding every rule class. */
    public static final String PACKAGE = "dev.metaforge.tck";

    private final ClassLoader loader;

    public TckRunner(ClassLoader loader) {
        this.loader = requireNonNull(loader, "loader is null");
    }

    /**
     * What to run.
     *
     * @param backend    backend name, or null for -Dmetaforge.backend / METAFORGE_BACKEND / the selection rule
     * @param device     device name ({@code cpu}, {@code gpu:0}), or null for cpu
     * @param parameters extra JUnit configuration parameters
     * @param rules      rule ids or globs ({@code KERNEL-*}) to run; empty runs every rule
     */
    public record Options(String backend, String device, Map<String, String> parameters, List<String> rules) {
        public Options {
            parameters = Map.copyOf(requireNonNull(parameters, "parameters is null"));
            rules = List.copyOf(requireNonNull(rules, "rules is null"));
        }

        /** Every rule. */
        public Options(String backend, String device, Map<String, String> parameters) {
            this(backend, device, parameters, List.of());
        }

        public static Options backend(String backend) {
            return new Options(backend, null, Map.of());
        }

        public Options withDevice(String newDevice) {
            return new Options(backend, newDevice, parameters, rules);
        }

        public Options withParameter(String key, String value) {
            Map<String, String> p = new LinkedHashMap<>(parameters);
            p.put(key, value);
            return new Options(backend, device, p, rules);
        }

        /** Only the rules whose id matches one of {@code patterns} (exact ids or globs with {@code *}). */
        public Options withRules(Collection<String> patterns) {
            return new Options(backend, device, parameters, List.copyOf(patterns));
        }
    }

    /**
     * Runs the kit.
     *
     * @throws dev.metaforge.spi.BackendNotFoundException before anything runs, when the backend is
     *         unknown or no backend is usable (the message lists the known backends)
     */
    public ConformanceReport run(Options options, TckProgress progress) {
        requireNonNull(options, "options is null");
        BackendProvider provider = TckBackends.resolve(options.backend(), loader);
        Map<String, String> parameters = new LinkedHashMap<>(options.parameters());
        parameters.put(TckBackends.BACKEND_PARAMETER, provider.name());
        if (options.device() != null) {
            parameters.put(TckBackends.DEVICE_PARAMETER, options.device());
        }
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectPackage(PACKAGE))
                .filters(EngineFilter.includeEngines("junit-jupiter"),
                        ClassNameFilter.includeClassNamePatterns(ClassNameFilter.STANDARD_INCLUDE_PATTERN),
                        ruleFilter(options.rules()))
                .configurationParameters(parameters)
                .build();
        ConformanceReportListener listener = new ConformanceReportListener(progress);
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(loader);
        try {
            Launcher launcher = LauncherFactory.create(LauncherConfig.builder()
                    .enableTestExecutionListenerAutoRegistration(false)
                    .build());
            launcher.execute(request, listener);
        } finally {
            thread.setContextClassLoader(previous);
        }
        List<ConformanceReport> reports = listener.reports();
        if (reports.isEmpty()) {
            return new ConformanceReport(provider.name(), "", "", List.of(), ConformanceReport.currentTckVersion(),
                    Instant.now(), 0, List.of(), "no TCK rules found in package " + PACKAGE + " on the classpath"
                    + (options.rules().isEmpty() ? "" : " matching " + options.rules()));
        }
        return reports.stream().filter(r -> r.backend().equals(provider.name())).findFirst().orElse(reports.get(0));
    }

    /** Keeps rule methods whose id matches a pattern; everything else that is not a rule passes through. */
    static PostDiscoveryFilter ruleFilter(List<String> patterns) {
        List<Pattern> regexes = patterns.stream()
                .map(p -> Pattern.compile(Arrays.stream(p.trim().split("\\*", -1)).map(Pattern::quote)
                        .collect(Collectors.joining(".*"))))
                .toList();
        return descriptor -> {
            if (regexes.isEmpty() || !(descriptor.getSource().orElse(null) instanceof MethodSource source)) {
                return FilterResult.included("no rule filter");
            }
            TckRule rule;
            try {
                rule = source.getJavaMethod().getAnnotation(TckRule.class);
            } catch (RuntimeException e) {
                return FilterResult.included("not a rule");
            }
            if (rule == null || regexes.stream().anyMatch(r -> r.matcher(rule.id()).matches())) {
                return FilterResult.included("selected rule");
            }
            return FilterResult.excluded("rule " + rule.id() + " not selected by " + patterns);
        };
    }
}
