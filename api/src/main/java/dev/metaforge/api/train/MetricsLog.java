package dev.metaforge.api.train;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metaforge.api.checkpoint.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The lines of {@code metrics.jsonl}, kept in memory and rewritten atomically: a training line
 * {@code {"step":..,"loss":..,"seconds":..,"stepsPerSecond":..}} per logged step and an
 * evaluation line {@code {"step":..,"seconds":..,"eval":{...}}} per evaluation.
 */
final class MetricsLog {
    /** Rewrites at most this often between forced flushes, so the file stays current but cheap. */
    private static final long FLUSH_INTERVAL_NANOS = 1_000_000_000L;

    private final Path file;
    private final ObjectMapper json = new ObjectMapper();
    private final List<String> lines = new ArrayList<>();
    private final List<double[]> trainPoints = new ArrayList<>();
    /** (step, value) per evaluation metric, in first-seen order. */
    private final java.util.LinkedHashMap<String, List<double[]>> evalPoints = new java.util.LinkedHashMap<>();
    /** (step, value) per loss part or statistic of the training lines ("terms"), in first-seen order. */
    private final java.util.LinkedHashMap<String, List<double[]>> termPoints = new java.util.LinkedHashMap<>();
    private boolean dirty;
    private long lastFlushNanos = System.nanoTime();

    MetricsLog(Path file) {
        this.file = requireNonNull(file, "file is null");
    }

    Path file() {
        return file;
    }

    /**
     * Loads the existing file of a run resumed at {@code checkpointStep}, keeping the lines an
     * uninterrupted run of {@code targetSteps} steps would have written up to that step: lines
     * after the checkpoint are dropped (the resumed run writes them again), and so are the
     * off-schedule final lines of an earlier, shorter run.
     */
    void loadForResume(long checkpointStep, long targetSteps, int logEvery, int evalEvery) throws IOException {
        lines.clear();
        trainPoints.clear();
        evalPoints.clear();
        termPoints.clear();
        if (!Files.exists(file)) {
            dirty = true;
            return;
        }
        List<String> existing = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < existing.size(); i++) {
            String line = existing.get(i);
            if (line.isBlank()) {
                continue;
            }
            JsonNode node;
            try {
                node = json.readTree(line);
            } catch (JsonProcessingException e) {
                throw new TrainingException(file + " line " + (i + 1) + " is not JSON (" + e.getOriginalMessage()
                        + "); fix or delete the file to resume");
            }
            JsonNode stepNode = node.get("step");
            if (stepNode == null || !stepNode.canConvertToLong()) {
                throw new TrainingException(file + " line " + (i + 1) + " has no integer \"step\"; fix or delete the file to resume");
            }
            long step = stepNode.longValue();
            boolean isEval = node.has("eval");
            int every = isEval ? evalEvery : logEvery;
            boolean onSchedule = every > 0 && step % every == 0;
            if (step <= checkpointStep && (onSchedule || step == targetSteps)) {
                lines.add(line);
                if (!isEval && node.has("loss")) {
                    trainPoints.add(new double[] {step, node.get("loss").asDouble()});
                }
                if (!isEval && node.has("terms")) {
                    node.get("terms").fields().forEachRemaining(f -> addTermPoint(f.getKey(), step, f.getValue().asDouble()));
                }
                if (isEval) {
                    node.get("eval").fields().forEachRemaining(f -> addEvalPoint(f.getKey(), step, f.getValue().asDouble()));
                }
            }
        }
        dirty = true;
    }

    void addTrain(long step, double loss, double seconds, double stepsPerSecond) {
        addTrain(step, loss, Map.of(), seconds, stepsPerSecond);
    }

    /** A training line; {@code terms} are the step's loss parts and statistics ({@code "terms": {...}}). */
    void addTrain(long step, double loss, Map<String, Double> terms, double seconds, double stepsPerSecond) {
        ObjectNode node = json.createObjectNode();
        node.put("step", step);
        node.put("loss", loss);
        if (!terms.isEmpty()) {
            ObjectNode t = node.putObject("terms");
            terms.forEach(t::put);
            terms.forEach((name, value) -> addTermPoint(name, step, value));
        }
        node.put("seconds", seconds);
        node.put("stepsPerSecond", stepsPerSecond);
        lines.add(node.toString());
        trainPoints.add(new double[] {step, loss});
        dirty = true;
    }

    void addEval(long step, double seconds, Map<String, Double> metrics) {
        ObjectNode node = json.createObjectNode();
        node.put("step", step);
        node.put("seconds", seconds);
        ObjectNode eval = node.putObject("eval");
        metrics.forEach(eval::put);
        metrics.forEach((name, value) -> addEvalPoint(name, step, value));
        lines.add(node.toString());
        dirty = true;
    }

    /** (step, loss) of every training line, in order. */
    List<double[]> trainPoints() {
        return trainPoints;
    }

    /** (step, value) of every evaluation metric, by metric name. */
    java.util.Map<String, List<double[]>> evalPoints() {
        return evalPoints;
    }

    /** (step, value) of every training term (auxiliary losses, statistics), by name. */
    java.util.Map<String, List<double[]>> termPoints() {
        return termPoints;
    }

    private void addTermPoint(String name, long step, double value) {
        termPoints.computeIfAbsent(name, n -> new ArrayList<>()).add(new double[] {step, value});
    }

    private void addEvalPoint(String name, long step, double value) {
        evalPoints.computeIfAbsent(name, n -> new ArrayList<>()).add(new double[] {step, value});
    }

    /** The last logged training loss, or NaN. */
    double lastLoss() {
        return trainPoints.isEmpty() ? Double.NaN : trainPoints.get(trainPoints.size() - 1)[1];
    }

    void flush() throws IOException {
        if (!dirty) {
            return;
        }
        StringBuilder sb = new StringBuilder();
        for (String line : lines) {
            sb.append(line).append('\n');
        }
        AtomicFiles.writeString(file, sb.toString());
        dirty = false;
        lastFlushNanos = System.nanoTime();
    }

    void flushIfDue() throws IOException {
        if (dirty && System.nanoTime() - lastFlushNanos >= FLUSH_INTERVAL_NANOS) {
            flush();
        }
    }
}
