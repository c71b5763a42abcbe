package dev.metaforge.cli.run;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.checkpoint.AtomicFiles;
import dev.metaforge.api.train.Trainer;
import dev.metaforge.api.train.TrainingListener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes a run's plots at every checkpoint, as a {@link TrainingListener}: {@value Trainer#PLOT_FILE}
 * (the training loss and the evaluation metrics: losses on one log-scale panel, accuracies on a 0–1
 * panel, other metrics on a third, each curve its own colour, and under them what each metric measures)
 * and, for mixture-of-experts models, {@value Trainer#EXPERTS_PLOT_FILE} (each expert's share of the
 * assignments). Files are replaced atomically.
 *
 * <pre>{@code
 * Trainer trainer = new Trainer(engine, specs).withListener(new RunPlots());
 * }</pre>
 */
public final class RunPlots implements TrainingListener {
    /** Which panel a metric goes to. */
    enum Kind {
        LOSS("loss"), ACCURACY("accuracy"), OTHER("value");

        final String axis;

        Kind(String axis) {
            this.axis = axis;
        }
    }

    private Map<String, String> descriptions = Map.of();

    @Override
    public void runStarted(RunStarted run) {
        descriptions = run.metricDescriptions();
    }

    @Override
    public void checkpointWritten(CheckpointWritten checkpoint) {
        String run = String.valueOf(checkpoint.outDir().getFileName());
        write(checkpoint.outDir().resolve(Trainer.PLOT_FILE), lossModel(run, checkpoint.history(), descriptions));
        PlotModel experts = ExpertLoadPlot.model(run, checkpoint.history().terms());
        if (experts != null) {
            write(checkpoint.outDir().resolve(Trainer.EXPERTS_PLOT_FILE), experts);
        }
    }

    private static void write(Path file, PlotModel model) {
        try {
            AtomicFiles.writeBytes(file, PlotRenderer.png(model));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the plot " + file, e);
        }
    }

    /**
     * The loss plot of a run: the training loss and every evaluation metric ({@code "eval NAME"}),
     * split by {@link #kind} into panels with their own y axes, and a note per described metric.
     */
    public static PlotModel lossModel(String run, History history, Map<String, String> descriptions) {
        requireNonNull(run, "run is null");
        requireNonNull(history, "history is null");
        requireNonNull(descriptions, "descriptions is null");
        Map<Kind, Map<String, List<double[]>>> byKind = new EnumMap<>(Kind.class);
        byKind.computeIfAbsent(Kind.LOSS, k -> new LinkedHashMap<>()).put("training loss", history.trainingLoss());
        history.eval().forEach((name, points) ->
                byKind.computeIfAbsent(kind(name), k -> new LinkedHashMap<>()).put("eval " + name, points));
        List<PlotModel.Panel> panels = new ArrayList<>();
        byKind.forEach((kind, series) -> {
            List<PlotModel.Line> lines = new ArrayList<>();
            for (Map.Entry<String, List<double[]>> s : series.entrySet()) {
                lines.add(new PlotModel.Line(s.getKey(), PlotModel.colour(lines.size(), series.size()), false, s.getValue()));
            }
            PlotModel.Scale scale = switch (kind) {
                case LOSS -> PlotModel.Scale.LOG_WHEN_POSITIVE;
                case ACCURACY -> PlotModel.Scale.UNIT;
                case OTHER -> PlotModel.Scale.LINEAR;
            };
            panels.add(new PlotModel.Panel(kind.axis, scale, lines));
        });
        List<String> notes = new ArrayList<>();
        descriptions.forEach((name, text) -> notes.add(name + ": " + text));
        return new PlotModel(run + ": training and evaluation", panels, notes);
    }

    /**
     * A metric's panel by its name's last part: {@code accuracy}/{@code acc} (e.g. {@code task3.accuracy})
     * to the accuracies, names with {@code loss}, {@code mse}, {@code mae}, {@code nll} or {@code error}
     * to the losses, anything else to its own panel.
     */
    static Kind kind(String metric) {
        String last = metric.substring(metric.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
        if (last.endsWith("accuracy") || last.equals("acc")) {
            return Kind.ACCURACY;
        }
        for (String loss : new String[] {"loss", "mse", "mae", "nll", "error"}) {
            if (last.contains(loss)) {
                return Kind.LOSS;
            }
        }
        return Kind.OTHER;
    }
}
