package dev.metaforge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * What a Maven consumer of the published artifacts gets, resolved by Maven itself: a tiny consumer
 * project per artifact (importing {@code metaforge-bom}, depending on that artifact alone) and the
 * reactor's own modules are resolved with {@code dependency:tree} against a scratch local repository
 * holding this checkout's POMs (the machine's repository behind it, read-only: nothing is installed
 * into {@code ~/.m2}). A consumer must get every third-party version the build pins and tests with
 * (the parent's dependencyManagement, which consumers do not inherit), no SLF4J provider from a
 * library artifact, and the CLI's one provider from the CLI.
 */
class ConsumerResolutionTest {
    private static final String GROUP = "dev.metaforge";
    private static final String DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:tree";
    private static final Set<String> SLF4J_PROVIDERS = Set.of("org.slf4j:slf4j-simple", "org.slf4j:slf4j-nop", "org.slf4j:slf4j-reload4j",
            "org.slf4j:slf4j-jdk14", "ch.qos.logback:logback-classic", "org.apache.logging.log4j:log4j-slf4j2-impl");
    private static final Pattern NODE = Pattern.compile("[+\\\\]- (\\S+)");

    /** A module of the reactor: its directory, artifactId and packaging. */
    record ModuleInfo(Path dir, String artifactId, String packaging, boolean published) {
    }

    /** One resolved dependency: version and scope. */
    record Resolved(String version, String scope) {
    }

    static Path root;
    static String version;
    static List<ModuleInfo> modules;

    @TempDir
    Path work;

    @BeforeAll
    static void readReactor() throws Exception {
        root = Path.of("..").toAbsolutePath().normalize();
        Element parent = pom(root.resolve("pom.xml"));
        assertEquals("metaforge-parent", text(parent, "artifactId"), "tests run from the cli module of the repository");
        version = text(parent, "version");
        modules = new ArrayList<>();
        walk(root, modules);
    }

    private static void walk(Path dir, List<ModuleInfo> out) throws Exception {
        Element project = pom(dir.resolve("pom.xml"));
        String packaging = text(project, "packaging");
        packaging = packaging == null ? "jar" : packaging;
        Element properties = child(project, "properties");
        boolean skipped = properties != null && "true".equals(text(properties, "maven.deploy.skip"));
        out.add(new ModuleInfo(dir, text(project, "artifactId"), packaging, !skipped));
        Element list = child(project, "modules");
        if (list != null) {
            for (Element m : children(list, "module")) {
                walk(dir.resolve(m.getTextContent().trim()), out);
            }
        }
    }

    private List<ModuleInfo> published() {
        return modules.stream().filter(m -> m.published() && m.packaging().equals("jar")).toList();
    }

    @Test
    void theBomListsEveryPublishedArtifactAtTheReactorsVersion() throws Exception {
        Element bom = pom(root.resolve("bom").resolve("pom.xml"));
        assertEquals(version, text(bom, "version"), "metaforge-bom has no parent, so its version is written out: keep it in step");
        assertEquals(null, child(bom, "parent"), "a BOM with a parent would hand its dependencyManagement to every importer");
        Map<String, String> listed = new TreeMap<>();
        for (Element d : children(child(child(bom, "dependencyManagement"), "dependencies"), "dependency")) {
            assertEquals(GROUP, text(d, "groupId"));
            listed.put(text(d, "artifactId"), text(d, "version"));
        }
        Map<String, String> expected = new TreeMap<>();
        published().forEach(m -> expected.put(m.artifactId(), version));
        assertEquals(expected, listed, "metaforge-bom must list exactly the published jar modules (those without maven.deploy.skip)");
        // Its own lifecycle (clean, install, deploy) runs the parent's plugin versions: they are what an offline build has.
        Map<String, String> parentPlugins = new TreeMap<>();
        for (Element p : children(child(child(child(pom(root.resolve("pom.xml")), "build"), "pluginManagement"), "plugins"), "plugin")) {
            parentPlugins.put(text(p, "artifactId"), text(p, "version"));
        }
        for (Element p : children(child(child(child(bom, "build"), "pluginManagement"), "plugins"), "plugin")) {
            assertEquals(parentPlugins.get(text(p, "artifactId")), text(p, "version"), text(p, "artifactId") + " in bom/pom.xml");
        }
    }

    @Test
    void aConsumerResolvesTheVersionsTheBuildTestsWith() throws Exception {
        Path maven = maven();
        assumeTrue(maven != null, "no Maven to run: start the build with ./mvnw (maven.home) or keep ./mvnw in the repository");
        Path repo = Files.createDirectories(work.resolve("repo"));
        for (ModuleInfo m : modules) {
            if (m.published() || m.packaging().equals("pom")) {
                Path dir = Files.createDirectories(repo.resolve(GROUP.replace('.', '/')).resolve(m.artifactId()).resolve(version));
                Files.copy(m.dir().resolve("pom.xml"), dir.resolve(m.artifactId() + "-" + version + ".pom"));
            }
        }
        // One consumer per artifact: imports the BOM, depends on that artifact alone, without a version.
        Path consumers = Files.createDirectories(work.resolve("consumers"));
        StringBuilder aggregator = new StringBuilder("<project xmlns=\"http://maven.apache.org/POM/4.0.0\"><modelVersion>4.0.0</modelVersion>"
                + "<groupId>example</groupId><artifactId>consumers</artifactId><version>1</version><packaging>pom</packaging><modules>");
        for (ModuleInfo m : published()) {
            aggregator.append("<module>").append(m.artifactId()).append("</module>");
            Path dir = Files.createDirectories(consumers.resolve(m.artifactId()));
            Files.writeString(dir.resolve("pom.xml"), "<project xmlns=\"http://maven.apache.org/POM/4.0.0\"><modelVersion>4.0.0</modelVersion>"
                    + "<groupId>example</groupId><artifactId>uses-" + m.artifactId() + "</artifactId><version>1</version>"
                    + "<dependencyManagement><dependencies><dependency><groupId>" + GROUP + "</groupId><artifactId>metaforge-bom</artifactId>"
                    + "<version>" + version + "</version><type>pom</type><scope>import</scope></dependency></dependencies></dependencyManagement>"
                    + "<dependencies><dependency><groupId>" + GROUP + "</groupId><artifactId>" + m.artifactId() + "</artifactId>"
                    + "</dependency></dependencies></project>");
        }
        Files.writeString(consumers.resolve("pom.xml"), aggregator.append("</modules></project>").toString());

        Path consumerTree = work.resolve("consumer-tree.txt");
        mvn(maven, repo, consumers, List.of(), consumerTree);
        List<String> dirs = published().stream().map(m -> root.relativize(m.dir()).toString()).toList();
        Path reactorTree = work.resolve("reactor-tree.txt");
        mvn(maven, repo, root, List.of("-pl", String.join(",", dirs)), reactorTree);

        Map<String, Map<String, Resolved>> consumerGraphs = trees(consumerTree);
        Map<String, Map<String, Resolved>> reactorGraphs = trees(reactorTree);
        Set<String> pinned = pinnedByParent();
        List<String> problems = new ArrayList<>();
        for (ModuleInfo m : published()) {
            Map<String, Resolved> tested = reactorGraphs.get(m.artifactId());
            Map<String, Resolved> consumed = consumerGraphs.get("uses-" + m.artifactId());
            assertTrue(tested != null && consumed != null, "no tree for " + m.artifactId() + " in " + reactorGraphs.keySet() + " / "
                    + consumerGraphs.keySet());
            for (Map.Entry<String, Resolved> e : tested.entrySet()) {
                String key = e.getKey();
                if (!isRuntime(e.getValue()) || !isPinned(pinned, key)) {
                    continue;
                }
                Resolved got = consumed.get(key);
                if (got == null || !got.version().equals(e.getValue().version())) {
                    problems.add("a consumer of " + m.artifactId() + " gets " + key + " " + (got == null ? "not at all" : got.version())
                            + ", but the build tests it with " + e.getValue().version() + " (pinned in the parent's dependencyManagement,"
                            + " which consumers do not inherit): declare it in " + root.relativize(m.dir().resolve("pom.xml")));
                }
            }
            Set<String> providers = new TreeSet<>();
            consumed.forEach((key, r) -> {
                if (isRuntime(r) && SLF4J_PROVIDERS.contains(groupArtifact(key))) {
                    providers.add(key);
                }
            });
            Set<String> expected = m.artifactId().equals("metaforge-cli") ? Set.of("org.slf4j:slf4j-simple") : Set.of();
            if (!providers.equals(expected)) {
                problems.add("a consumer of " + m.artifactId() + " gets SLF4J providers " + providers + ", expected " + expected
                        + " (libraries leave the choice to the application; the CLI is quiet through slf4j-simple at WARN)");
            }
        }
        assertEquals(List.of(), problems, String.join("\n", problems));
        // The natives' platform a consumer gets is the reactor's (linux-x86_64 on this build machine).
        assertTrue(consumerGraphs.get("uses-metaforge-backend-djl").keySet().stream()
                .anyMatch(k -> k.startsWith("ai.djl.pytorch:pytorch-native-cpu:")), consumerGraphs.get("uses-metaforge-backend-djl").toString());
    }

    /** Third-party group:artifact pins of the parent's dependencyManagement (and the groups of the BOMs it imports). */
    private static Set<String> pinnedByParent() throws Exception {
        Set<String> out = new TreeSet<>();
        Element parent = pom(root.resolve("pom.xml"));
        for (Element d : children(child(child(parent, "dependencyManagement"), "dependencies"), "dependency")) {
            String group = text(d, "groupId");
            if (group.equals(GROUP)) {
                continue;
            }
            if ("import".equals(text(d, "scope"))) {
                out.add(group + ":*");
            } else {
                out.add(group + ":" + text(d, "artifactId"));
            }
        }
        return out;
    }

    private static String groupArtifact(String key) {
        String[] parts = key.split(":");
        return parts[0] + ":" + parts[1];
    }

    private static boolean isRuntime(Resolved r) {
        return r.scope().equals("compile") || r.scope().equals("runtime");
    }

    /** Parses dependency:tree output: root artifactId to "group:artifact[:classifier]" -> version and scope. */
    static Map<String, Map<String, Resolved>> trees(Path file) throws IOException {
        Map<String, Map<String, Resolved>> out = new LinkedHashMap<>();
        Map<String, Resolved> current = null;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            if (!line.startsWith("+") && !line.startsWith("|") && !line.startsWith("\\") && !line.startsWith(" ")) {
                current = new TreeMap<>();
                out.put(line.split(":")[1], current);
                continue;
            }
            Matcher m = NODE.matcher(line);
            if (!m.find() || current == null) {
                continue;
            }
            String[] p = m.group(1).split(":");
            // group:artifact:type:version:scope or group:artifact:type:classifier:version:scope
            String classifier = p.length >= 6 ? p[3] : "";
            String v = p.length >= 6 ? p[4] : p[3];
            String scope = p.length >= 6 ? p[5] : p[4];
            current.put(p[0] + ":" + p[1] + (classifier.isEmpty() ? "" : ":" + classifier), new Resolved(v, scope));
        }
        return out;
    }

    /** Pinned by name, or by group for an imported BOM ("group:*"). */
    private static boolean isPinned(Set<String> pinned, String key) {
        String ga = groupArtifact(key);
        return pinned.contains(ga) || pinned.contains(ga.substring(0, ga.indexOf(':')) + ":*");
    }

    private void mvn(Path maven, Path repo, Path project, List<String> extra, Path output) throws Exception {
        List<String> command = new ArrayList<>(List.of(maven.toString(), "-o", "-B", "-q", "-f", project.resolve("pom.xml").toString(),
                "-Dmaven.repo.local=" + repo, "-Dmaven.repo.local.tail=" + machineRepository()));
        command.addAll(extra);
        command.addAll(List.of(DEPENDENCY_PLUGIN, "-DoutputFile=" + output, "-DappendOutput=true"));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).directory(project.toFile());
        pb.environment().remove("MAVEN_ARGS");
        Process p = pb.start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "maven did not finish: " + command);
        assertEquals(0, p.exitValue(), String.join(" ", command) + "\n" + log);
    }

    /** The Maven running this build (surefire passes maven.home), else the repository's wrapper. */
    private static Path maven() {
        String home = System.getProperty("metaforge.maven.home");
        if (home != null && !home.isBlank() && Files.isExecutable(Path.of(home, "bin", "mvn"))) {
            return Path.of(home, "bin", "mvn");
        }
        Path wrapper = root.resolve("mvnw");
        return Files.isExecutable(wrapper) ? wrapper : null;
    }

    private static Path machineRepository() {
        String repo = System.getProperty("metaforge.local.repository");
        return repo != null && !repo.isBlank() ? Path.of(repo) : Path.of(System.getProperty("user.home"), ".m2", "repository");
    }

    // ---- XML ----

    static Element pom(Path file) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        Document doc = factory.newDocumentBuilder().parse(file.toFile());
        return doc.getDocumentElement();
    }

    static Element child(Element parent, String name) {
        if (parent == null) {
            return null;
        }
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                return e;
            }
        }
        return null;
    }

    static List<Element> children(Element parent, String name) {
        List<Element> out = new ArrayList<>();
        NodeList nodes = parent.getChildNodes();
        for (int i = 0; i < nodes.getLength(); i++) {
            if (nodes.item(i) instanceof Element e && e.getTagName().equals(name)) {
                out.add(e);
            }
        }
        return out;
    }

    static String text(Element parent, String name) {
        Element e = child(parent, name);
        return e == null ? null : e.getTextContent().trim();
    }
}
