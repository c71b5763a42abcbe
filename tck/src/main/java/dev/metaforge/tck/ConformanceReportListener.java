package dev.metaforge.tck;

import dev.metaforge.spi.Capability;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.reporting.ReportEntry;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

/**
 * Collects a status per TCK rule while JUnit runs the kit, and builds a {@link ConformanceReport}
 * per backend at the end.
 *
 * <p>A rule is a test method carrying {@link TckRule}; for a table-driven rule
 * ({@code @TestFactory}, {@code @ParameterizedTest}) the cases are aggregated: one failed case
 * FAILs the rule. A rule aborted with a message starting with
 * {@value TckExtension#UNSUPPORTED_PREFIX} is UNSUPPORTED, any other abort or a disabled rule is
 * SKIPPED; a rule whose class failed before it ran (e.g. the backend could not be created) FAILs.
 *
 * <p>Registered with {@link java.util.ServiceLoader} (the kit's jar lists it for the JUnit Platform
 * launcher), so a backend module's {@code mvn test} of its conformance suite writes
 * {@code target/tck-report/conformance.json} and {@code conformance.md}; the configuration
 * parameter or system property {@value #REPORT_DIR_PARAMETER} changes the directory ({@code none}
 * turns files off). Nothing is written when no rule ran. {@link TckRunner} uses its own instance.
 */
public final class ConformanceReportListener implements TestExecutionListener {
    /** Where the auto-registered listener writes its report; {@code none} for nowhere. */
    public static final String REPORT_DIR_PARAMETER = "metaforge.tck.report.dir";
    public static final String DEFAULT_REPORT_DIR = "target/tck-report";

    private static final int MAX_MESSAGE = 4000;
    private static final int MAX_CASES_SHOWN = 3;
    private static final Pattern ID_NUMBER = Pattern.compile("^(.*?)(\\d+)$");

    private final TckProgress progress;
    private final boolean writeFiles;
    private final PrintStream console;

    private TestPlan plan;
    private Instant started;
    private final Map<String, RuleNode> rules = new LinkedHashMap<>();
    private final Map<String, String> parents = new HashMap<>();
    private final Map<String, Map<String, String>> entries = new HashMap<>();
    private int finished;
    private int startedRules;
    private List<ConformanceReport> reports = List.of();

    /** The auto-registered listener: writes files into {@value #REPORT_DIR_PARAMETER} and prints one line. */
    public ConformanceReportListener() {
        this(TckProgress.none(), true, System.out);
    }

    /** A listener that only collects; {@link #reports()} gives the result. */
    public ConformanceReportListener(TckProgress progress) {
        this(progress, false, null);
    }

    private ConformanceReportListener(TckProgress progress, boolean writeFiles, PrintStream console) {
        this.progress = progress == null ? TckProgress.none() : progress;
        this.writeFiles = writeFiles;
        this.console = console;
    }

    /** The reports of the last run, one per backend tested (usually one); empty when no rule ran. */
    public synchronized List<ConformanceReport> reports() {
        return reports;
    }

    // ---- listener callbacks -----------------------------------------------------------------

    @Override
    public synchronized void testPlanExecutionStarted(TestPlan testPlan) {
        plan = testPlan;
        started = Instant.now();
        rules.clear();
        parents.clear();
        entries.clear();
        finished = 0;
        startedRules = 0;
        reports = List.of();
        for (TestIdentifier root : testPlan.getRoots()) {
            register(root);
            for (TestIdentifier d : testPlan.getDescendants(root)) {
                register(d);
            }
        }
    }

    private void register(TestIdentifier id) {
        id.getParentId().ifPresent(p -> parents.put(id.getUniqueId(), p));
        if (id.getParentId().isPresent() && rules.containsKey(id.getParentId().get())) {
            return; // a statically known child of a rule (e.g. an invocation) is a case, not a rule
        }
        ruleAnnotation(id).ifPresent(rule -> rules.put(id.getUniqueId(), new RuleNode(rule, id)));
    }

    private static Optional<TckRule> ruleAnnotation(TestIdentifier id) {
        if (id.getSource().orElse(null) instanceof MethodSource source) {
            try {
                Method m = source.getJavaMethod();
                return Optional.ofNullable(m.getAnnotation(TckRule.class));
            } catch (RuntimeException | LinkageError e) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    @Override
    public synchronized void dynamicTestRegistered(TestIdentifier id) {
        id.getParentId().ifPresent(p -> parents.put(id.getUniqueId(), p));
    }

    @Override
    public synchronized void executionStarted(TestIdentifier id) {
        RuleNode node = rules.get(id.getUniqueId());
        if (node != null) {
            node.startNanos = System.nanoTime();
            startedRules++;
            try {
                progress.ruleStarted(node.rule.id(), startedRules, rules.size());
            } catch (RuntimeException ignored) {
                // a broken progress display must not change the outcome
            }
        }
    }

    @Override
    public synchronized void executionSkipped(TestIdentifier id, String reason) {
        RuleNode node = rules.get(id.getUniqueId());
        if (node != null) {
            finish(node, RuleStatus.SKIPPED, "skipped: " + reason);
            return;
        }
        RuleNode owner = owningRule(id.getUniqueId());
        if (owner != null) {
            owner.cases++;
            owner.skippedCases++;
            return;
        }
        finishUnfinishedBelow(id.getUniqueId(), RuleStatus.SKIPPED, "skipped: " + reason);
    }

    @Override
    public synchronized void executionFinished(TestIdentifier id, TestExecutionResult result) {
        String uid = id.getUniqueId();
        RuleNode node = rules.get(uid);
        if (node != null) {
            finishRule(node, result);
            return;
        }
        RuleNode owner = owningRule(uid);
        if (owner != null) {
            recordCase(owner, id, result);
            return;
        }
        // a container above rules (class, engine, suite): rules it never ran inherit its outcome
        switch (result.getStatus()) {
            case FAILED -> finishUnfinishedBelow(uid, RuleStatus.FAIL, "not run because " + id.getDisplayName()
                    + " failed: " + describe(result.getThrowable().orElse(null)));
            case ABORTED -> {
                String message = describe(result.getThrowable().orElse(null));
                finishUnfinishedBelow(uid, unsupported(message) ? RuleStatus.UNSUPPORTED : RuleStatus.SKIPPED, message);
            }
            case SUCCESSFUL -> finishUnfinishedBelow(uid, RuleStatus.SKIPPED, "not run");
        }
    }

    @Override
    public synchronized void reportingEntryPublished(TestIdentifier id, ReportEntry entry) {
        String figure = entry.getKeyValuePairs().get(TckExtension.ENTRY_FIGURE);
        if (figure != null) {
            RuleNode node = rules.containsKey(id.getUniqueId()) ? rules.get(id.getUniqueId()) : owningRule(id.getUniqueId());
            if (node != null) {
                node.figures.add(figure);
            }
        }
        entries.computeIfAbsent(id.getUniqueId(), k -> new LinkedHashMap<>()).putAll(entry.getKeyValuePairs());
    }

    @Override
    public synchronized void testPlanExecutionFinished(TestPlan testPlan) {
        for (RuleNode node : rules.values()) {
            if (node.result == null) {
                finish(node, RuleStatus.SKIPPED, "not run");
            }
        }
        reports = buildReports();
        if (writeFiles && !reports.isEmpty()) {
            write(testPlan);
        }
    }

    // ---- aggregation ------------------------------------------------------------------------

    private void recordCase(RuleNode owner, TestIdentifier id, TestExecutionResult result) {
        if (!id.isTest() && result.getStatus() == TestExecutionResult.Status.SUCCESSFUL) {
            return; // a dynamic container; its tests are counted themselves
        }
        owner.cases++;
        switch (result.getStatus()) {
            case SUCCESSFUL -> owner.passedCases++;
            case FAILED -> {
                owner.failedCases++;
                if (owner.caseFailures.size() < MAX_CASES_SHOWN) {
                    owner.caseFailures.add("[" + id.getDisplayName() + "] " + describe(result.getThrowable().orElse(null)));
                }
            }
            case ABORTED -> {
                String message = describe(result.getThrowable().orElse(null));
                if (unsupported(message)) {
                    owner.unsupportedCases++;
                    owner.unsupportedMessage = message;
                } else {
                    owner.skippedCases++;
                    if (owner.skippedMessage == null) {
                        owner.skippedMessage = message;
                    }
                }
            }
        }
    }

    private void finishRule(RuleNode node, TestExecutionResult result) {
        String message = describe(result.getThrowable().orElse(null));
        switch (result.getStatus()) {
            case FAILED -> {
                node.cases = Math.max(node.cases, 1);
                node.failedCases = Math.max(node.failedCases, 1);
                String cases = node.caseFailures.isEmpty() ? "" : "; failed cases: " + String.join("; ", node.caseFailures);
                finish(node, RuleStatus.FAIL, message + cases);
            }
            case ABORTED -> finish(node, unsupported(message) ? RuleStatus.UNSUPPORTED : RuleStatus.SKIPPED, message);
            case SUCCESSFUL -> {
                if (node.failedCases > 0) {
                    String more = node.failedCases > node.caseFailures.size()
                            ? " (first " + node.caseFailures.size() + " shown)" : "";
                    finish(node, RuleStatus.FAIL, node.failedCases + " of " + node.cases + " cases failed" + more + ": "
                            + String.join("; ", node.caseFailures));
                } else if (node.cases > 0 && node.passedCases == 0) {
                    if (node.unsupportedCases > 0) {
                        finish(node, RuleStatus.UNSUPPORTED, node.unsupportedMessage);
                    } else {
                        finish(node, RuleStatus.SKIPPED, "all " + node.cases + " cases were skipped"
                                + (node.skippedMessage == null ? "" : ": " + node.skippedMessage));
                    }
                } else {
                    if (node.cases == 0 && node.isTest) {
                        node.cases = 1;
                    }
                    String note = node.unsupportedCases + node.skippedCases == 0 ? ""
                            : (node.unsupportedCases + node.skippedCases) + " of " + node.cases + " cases not run"
                            + (node.unsupportedMessage == null ? "" : ": " + node.unsupportedMessage);
                    finish(node, RuleStatus.PASS, note);
                }
            }
        }
    }

    private void finish(RuleNode node, RuleStatus status, String message) {
        if (node.result != null) {
            return;
        }
        long durationMs = node.startNanos == 0 ? 0 : (System.nanoTime() - node.startNanos) / 1_000_000;
        String m = message == null ? "" : message;
        if (m.length() > MAX_MESSAGE) {
            m = m.substring(0, MAX_MESSAGE) + "…";
        }
        node.result = new RuleResult(node.rule.id(), node.rule.required(),
                Arrays.stream(node.rule.capability()).map(Capability::name).toList(), status, m, node.displayName,
                node.cases, node.failedCases, durationMs, node.figures);
        finished++;
        try {
            progress.ruleFinished(node.result, finished, rules.size());
        } catch (RuntimeException ignored) {
            // a broken progress display must not change the outcome
        }
    }

    private void finishUnfinishedBelow(String containerId, RuleStatus status, String message) {
        for (Map.Entry<String, RuleNode> e : rules.entrySet()) {
            if (e.getValue().result == null && isBelow(e.getKey(), containerId)) {
                finish(e.getValue(), status, message);
            }
        }
    }

    private boolean isBelow(String uid, String ancestor) {
        for (String p = parents.get(uid); p != null; p = parents.get(p)) {
            if (p.equals(ancestor)) {
                return true;
            }
        }
        return false;
    }

    private RuleNode owningRule(String uid) {
        for (String p = parents.get(uid); p != null; p = parents.get(p)) {
            RuleNode node = rules.get(p);
            if (node != null) {
                return node;
            }
        }
        return null;
    }

    private Map<String, String> backendEntries(String uid) {
        for (String p = uid; p != null; p = parents.get(p)) {
            Map<String, String> e = entries.get(p);
            if (e != null && e.containsKey(TckExtension.ENTRY_BACKEND)) {
                return e;
            }
        }
        return Map.of();
    }

    private List<ConformanceReport> buildReports() {
        Map<String, List<RuleResult>> byBackend = new LinkedHashMap<>();
        Map<String, Map<String, String>> infoByBackend = new LinkedHashMap<>();
        for (Map.Entry<String, RuleNode> e : rules.entrySet()) {
            Map<String, String> info = backendEntries(e.getKey());
            String backend = info.getOrDefault(TckExtension.ENTRY_BACKEND, "unknown");
            byBackend.computeIfAbsent(backend, k -> new ArrayList<>()).add(e.getValue().result);
            Map<String, String> known = infoByBackend.computeIfAbsent(backend, k -> new LinkedHashMap<>());
            info.forEach(known::putIfAbsent);
        }
        long durationMs = started == null ? 0 : java.time.Duration.between(started, Instant.now()).toMillis();
        List<ConformanceReport> out = new ArrayList<>();
        for (Map.Entry<String, List<RuleResult>> e : byBackend.entrySet()) {
            Map<String, String> info = infoByBackend.get(e.getKey());
            List<RuleResult> sorted = new ArrayList<>(e.getValue());
            sorted.sort(Comparator.comparing((RuleResult r) -> idKey(r.id())).thenComparing(RuleResult::id));
            String caps = info.getOrDefault(TckExtension.ENTRY_CAPABILITIES, "");
            out.add(new ConformanceReport(e.getKey(), info.get(TckExtension.ENTRY_VERSION),
                    info.get(TckExtension.ENTRY_DEVICE), caps.isEmpty() ? List.of() : List.of(caps.split(",")),
                    ConformanceReport.currentTckVersion(), Instant.now(), durationMs, sorted,
                    info.get(TckExtension.ENTRY_ERROR), info.get(TckExtension.ENTRY_OPTIONS)));
        }
        return out;
    }

    /** Sort key: "KERNEL-MATMUL-2" before "KERNEL-MATMUL-10". */
    private static String idKey(String id) {
        Matcher m = ID_NUMBER.matcher(id);
        return m.matches() ? m.group(1) + String.format("%09d", Long.parseLong(m.group(2).length() > 9 ? "999999999" : m.group(2))) : id;
    }

    private void write(TestPlan testPlan) {
        String dir = testPlan.getConfigurationParameters().get(REPORT_DIR_PARAMETER)
                .orElse(System.getProperty(REPORT_DIR_PARAMETER, DEFAULT_REPORT_DIR));
        if (dir.isBlank() || dir.equalsIgnoreCase("none")) {
            return;
        }
        for (ConformanceReport report : reports) {
            Path target = reports.size() == 1 ? Path.of(dir) : Path.of(dir, report.backend());
            try {
                report.writeTo(target);
                if (console != null) {
                    console.println("metaforge tck: " + report.headline() + "; report in "
                            + target.resolve(ConformanceReport.MARKDOWN_FILE));
                }
            } catch (RuntimeException e) {
                if (console != null) {
                    console.println("metaforge tck: could not write the conformance report: " + e.getMessage());
                }
            }
        }
    }

    private static boolean unsupported(String message) {
        return message != null && message.startsWith(TckExtension.UNSUPPORTED_PREFIX);
    }

    /** A failure in words: the assertion message, or the exception type, message and where it came from. */
    static String describe(Throwable t) {
        if (t == null) {
            return "";
        }
        String message = t.getMessage() == null ? "" : t.getMessage();
        if (t instanceof AssertionError || t instanceof org.opentest4j.TestAbortedException) {
            return message.isEmpty() ? t.getClass().getSimpleName() : message;
        }
        StringBuilder sb = new StringBuilder(t.getClass().getName());
        if (!message.isEmpty()) {
            sb.append(": ").append(message);
        }
        StackTraceElement[] trace = t.getStackTrace();
        if (trace.length > 0) {
            sb.append(" (at ").append(trace[0]).append(')');
        }
        if (t.getCause() != null && t.getCause() != t) {
            sb.append("; caused by ").append(t.getCause().getClass().getName()).append(": ").append(t.getCause().getMessage());
        }
        return sb.toString();
    }

    private static final class RuleNode {
        final TckRule rule;
        final String displayName;
        final boolean isTest;
        long startNanos;
        int cases;
        int passedCases;
        int failedCases;
        int skippedCases;
        String skippedMessage;
        int unsupportedCases;
        String unsupportedMessage;
        final List<String> caseFailures = new ArrayList<>();
        final List<String> figures = new ArrayList<>();
        RuleResult result;

        RuleNode(TckRule rule, TestIdentifier id) {
            this.rule = rule;
            this.displayName = id.getDisplayName();
            this.isTest = id.isTest();
        }
    }
}
