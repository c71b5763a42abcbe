package dev.metaforge.tck;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.metaforge.api.checkpoint.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * The result of one kit run on one backend: a status per rule and the verdict. The backend is
 * CONFORMANT when at least one rule ran and no required rule FAILed.
 *
 * <p>{@link #writeTo(Path)} writes {@value #JSON_FILE} and {@value #MARKDOWN_FILE}, each through a
 * temporary file renamed into place, so a reader never sees half a report.
 *
 * @param backend        the backend's name
 * @param backendVersion its version string, or empty when it could not be created
 * @param device         the device the kit ran on
 * @param capabilities   the capabilities the backend declares
 * @param tckVersion     the kit's version
 * @param generatedAt    when the run finished
 * @param durationMs     wall time of the run
 * @param rules          one result per rule, sorted by id
 * @param error          why the backend could not be tested at all, or empty
 * @param options        the backend options the kit ran with ({@code metaforge.tck.options}, e.g. "gemm=onednn"), or
 *                       empty for none
 */
public record ConformanceReport(String backend, String backendVersion, String device, List<String> capabilities,
                                String tckVersion, Instant generatedAt, long durationMs, List<RuleResult> rules,
                                String error, String options) {
    public static final String JSON_FILE = "conformance.json";
    public static final String MARKDOWN_FILE = "conformance.md";

    /** The overall verdict. */
    public enum Verdict { CONFORMANT, NOT_CONFORMANT }

    /** Counts per status. */
    public record Summary(int total, int pass, int fail, int skipped, int unsupported, int requiredFailed) {
    }

    /** A report of a run without backend options. */
    public ConformanceReport(String backend, String backendVersion, String device, List<String> capabilities,
                             String tckVersion, Instant generatedAt, long durationMs, List<RuleResult> rules, String error) {
        this(backend, backendVersion, device, capabilities, tckVersion, generatedAt, durationMs, rules, error, "");
    }

    public ConformanceReport {
        requireNonNull(backend, "backend is null");
        backendVersion = backendVersion == null ? "" : backendVersion;
        device = device == null ? "" : device;
        options = options == null ? "" : options;
        capabilities = List.copyOf(capabilities);
        tckVersion = tckVersion == null ? "" : tckVersion;
        requireNonNull(generatedAt, "generatedAt is null");
        rules = List.copyOf(rules);
        error = error == null ? "" : error;
    }

    public Verdict verdict() {
        Summary s = summary();
        return s.requiredFailed() == 0 && s.pass() > 0 && error.isEmpty() ? Verdict.CONFORMANT : Verdict.NOT_CONFORMANT;
    }

    public boolean conformant() {
        return verdict() == Verdict.CONFORMANT;
    }

    public Summary summary() {
        int pass = 0;
        int fail = 0;
        int skipped = 0;
        int unsupported = 0;
        int requiredFailed = 0;
        for (RuleResult r : rules) {
            switch (r.status()) {
                case PASS -> pass++;
                case FAIL -> {
                    fail++;
                    if (r.required()) {
                        requiredFailed++;
                    }
                }
                case SKIPPED -> skipped++;
                case UNSUPPORTED -> unsupported++;
            }
        }
        return new Summary(rules.size(), pass, fail, skipped, unsupported, requiredFailed);
    }

    /** The result of rule {@code id}, if it ran. */
    public Optional<RuleResult> rule(String id) {
        return rules.stream().filter(r -> r.id().equals(id)).findFirst();
    }

    /** Ids of the rules with {@code status}, in report order. */
    public List<String> ruleIds(RuleStatus status) {
        return rules.stream().filter(r -> r.status() == status).map(RuleResult::id).toList();
    }

    /** One line: verdict, backend and counts. */
    public String headline() {
        Summary s = summary();
        return verdict() + ": " + backend + (backendVersion.isEmpty() ? "" : " (" + backendVersion + ")") + ": "
                + s.total() + " rules, " + s.pass() + " passed, " + s.fail() + " failed"
                + (s.fail() > s.requiredFailed() ? " (" + s.requiredFailed() + " required)" : "")
                + ", " + s.unsupported() + " unsupported, " + s.skipped() + " skipped";
    }

    // ---- JSON -------------------------------------------------------------------------------

    /** The report as a JSON tree of maps and lists, in the documented field order. */
    public Map<String, Object> toJsonTree() {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("backend", backend);
        root.put("backendVersion", backendVersion);
        root.put("device", device);
        root.put("options", options);
        root.put("capabilities", capabilities);
        root.put("verdict", verdict().name());
        root.put("tckVersion", tckVersion);
        root.put("generatedAt", generatedAt.toString());
        root.put("durationMs", durationMs);
        if (!error.isEmpty()) {
            root.put("error", error);
        }
        Summary s = summary();
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("total", s.total());
        summary.put("pass", s.pass());
        summary.put("fail", s.fail());
        summary.put("skipped", s.skipped());
        summary.put("unsupported", s.unsupported());
        summary.put("requiredFailed", s.requiredFailed());
        root.put("summary", summary);
        List<Object> list = new ArrayList<>();
        for (RuleResult r : rules) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", r.id());
            m.put("required", r.required());
            m.put("status", r.status().name());
            m.put("message", r.message());
            m.put("displayName", r.displayName());
            m.put("capabilities", r.capabilities());
            m.put("cases", r.cases());
            m.put("failedCases", r.failedCases());
            m.put("durationMs", r.durationMs());
            m.put("figures", r.figures());
            list.add(m);
        }
        root.put("rules", list);
        return root;
    }

    public String toJson() {
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(toJsonTree()) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the conformance report as JSON", e);
        }
    }

    // ---- Markdown ---------------------------------------------------------------------------

    public String toMarkdown() {
        Summary s = summary();
        StringBuilder md = new StringBuilder();
        md.append("# Metaforge conformance report: `").append(backend).append("`\n\n");
        md.append("**Verdict: ").append(verdict()).append("** — ").append(s.total()).append(" rules: ")
                .append(s.pass()).append(" PASS, ").append(s.fail()).append(" FAIL (").append(s.requiredFailed())
                .append(" required), ").append(s.unsupported()).append(" UNSUPPORTED, ").append(s.skipped())
                .append(" SKIPPED.\n\n");
        if (!error.isEmpty()) {
            md.append("**The backend could not be tested:** ").append(cell(error, 2000)).append("\n\n");
        }
        md.append("| | |\n|---|---|\n");
        md.append("| Backend | ").append(cell(backend, 200)).append(" |\n");
        md.append("| Version | ").append(cell(backendVersion, 200)).append(" |\n");
        md.append("| Device | ").append(cell(device, 100)).append(" |\n");
        if (!options.isEmpty()) {
            md.append("| Options | ").append(cell(options, 400)).append(" |\n");
        }
        md.append("| Capabilities | ").append(cell(String.join(", ", capabilities), 400)).append(" |\n");
        md.append("| TCK | ").append(cell(tckVersion, 100)).append(" |\n");
        md.append("| Generated | ").append(generatedAt).append(" |\n");
        md.append("| Duration | ").append(String.format(Locale.ROOT, "%.1f s", durationMs / 1000.0)).append(" |\n\n");
        md.append("CONFORMANT means no required rule FAILed. UNSUPPORTED: the backend does not declare a capability the rule "
                + "needs and rejected it cleanly with UnsupportedCapabilityException.\n\n");
        md.append("## Rules\n\n| Rule | Status | Required | Description | Message |\n|---|---|---|---|---|\n");
        for (RuleResult r : rules) {
            md.append("| ").append(r.id()).append(" | ").append(r.status() == RuleStatus.FAIL ? "**FAIL**" : r.status().name())
                    .append(" | ").append(r.required() ? "yes" : "no")
                    .append(r.capabilities().isEmpty() ? "" : " (" + String.join(", ", r.capabilities()) + ")")
                    .append(" | ").append(cell(description(r), 200))
                    .append(" | ").append(cell(r.message(), 160)).append(" |\n");
        }
        List<RuleResult> measured = rules.stream().filter(r -> !r.figures().isEmpty()).toList();
        if (!measured.isEmpty()) {
            md.append("\n## Figures\n\n");
            for (RuleResult r : measured) {
                for (String f : r.figures()) {
                    md.append("- ").append(r.id()).append(": ").append(cell(f, 1000)).append('\n');
                }
            }
        }
        List<RuleResult> failed = rules.stream().filter(r -> r.status() == RuleStatus.FAIL).toList();
        if (!failed.isEmpty()) {
            md.append("\n## Failures\n");
            for (RuleResult r : failed) {
                md.append("\n### ").append(r.id()).append(r.required() ? "" : " (optional)").append(": ")
                        .append(description(r)).append("\n\n```\n").append(r.message().replace("```", "'''")).append("\n```\n");
            }
        }
        return md.toString();
    }

    private static String description(RuleResult r) {
        String d = r.displayName();
        return d.startsWith(r.id()) ? d.substring(r.id().length()).strip() : d;
    }

    private static String cell(String text, int max) {
        String t = text.replace("\r", "").replace("|", "\\|").replace("\n", "<br>");
        return t.length() <= max ? t : t.substring(0, max) + "…";
    }

    // ---- files ------------------------------------------------------------------------------

    /** Writes {@value #JSON_FILE} and {@value #MARKDOWN_FILE} into {@code dir} (created if missing). */
    public void writeTo(Path dir) {
        try {
            Files.createDirectories(dir);
            // AtomicFiles, not Files.createTempFile + move: that left the reports owner-only (0600).
            AtomicFiles.writeString(dir.resolve(JSON_FILE), toJson());
            AtomicFiles.writeString(dir.resolve(MARKDOWN_FILE), toMarkdown());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the conformance report to " + dir, e);
        }
    }

    /** The kit's version, from the jar's build metadata. */
    public static String currentTckVersion() {
        try (InputStream in = ConformanceReport.class.getResourceAsStream("tck.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
