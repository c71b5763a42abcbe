package dev.metaforge.cli.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.train.Trainer;
import dev.metaforge.api.train.TrainingListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The plots' data model: which series share an axis, their colours, the notes. */
class RunPlotsTest {
    private static List<double[]> points(double... values) {
        List<double[]> out = new ArrayList<>();
        for (int i = 0; i < values.length; i++) {
            out.add(new double[] {(i + 1) * 150, values[i]});
        }
        return out;
    }

    /** The evaluation metrics of the continual example: per task an accuracy and a loss, and the mean accuracy. */
    private static TrainingListener.History continual(int tasks) {
        Map<String, List<double[]>> eval = new LinkedHashMap<>();
        for (int k = 1; k <= tasks; k++) {
            eval.put("task" + k + ".accuracy", points(0.5, 0.9));
            eval.put("task" + k + ".loss", points(0.7, 0.2));
        }
        eval.put("accuracy", points(0.5, 0.9));
        return new TrainingListener.History(points(0.9, 0.3), eval, Map.of());
    }

    private static List<String> names(PlotModel.Panel panel) {
        return panel.lines().stream().map(PlotModel.Line::name).toList();
    }

    private static void assertDistinctColours(PlotModel.Panel panel) {
        Set<Integer> colours = new HashSet<>();
        panel.lines().forEach(l -> colours.add(l.rgb()));
        assertEquals(panel.lines().size(), colours.size(), "one colour per curve in " + panel.yLabel() + ": " + names(panel));
    }

    @Test
    void lossesAndAccuraciesGetPanelsOfTheirOwnWithDistinctColours() {
        PlotModel model = RunPlots.lossModel("continual", continual(5), Map.of());
        assertEquals(List.of("loss", "accuracy"), model.panels().stream().map(PlotModel.Panel::yLabel).toList());
        PlotModel.Panel losses = model.panels().get(0);
        PlotModel.Panel accuracies = model.panels().get(1);
        assertEquals(List.of("training loss", "eval task1.loss", "eval task2.loss", "eval task3.loss", "eval task4.loss", "eval task5.loss"),
                names(losses));
        assertEquals(List.of("eval task1.accuracy", "eval task2.accuracy", "eval task3.accuracy", "eval task4.accuracy",
                "eval task5.accuracy", "eval accuracy"), names(accuracies));
        assertEquals(PlotModel.Scale.LOG_WHEN_POSITIVE, losses.scale());
        assertEquals(PlotModel.Scale.UNIT, accuracies.scale());
        model.panels().forEach(RunPlotsTest::assertDistinctColours);
    }

    @Test
    void manySeriesInOnePanelStillGetDistinctColours() {
        PlotModel model = RunPlots.lossModel("many", continual(12), Map.of());
        assertEquals(13, model.panels().get(1).lines().size());
        model.panels().forEach(RunPlotsTest::assertDistinctColours);
    }

    @Test
    void otherMetricsGetAThirdPanelAndDescriptionsBecomeNotes() {
        Map<String, List<double[]>> eval = new LinkedHashMap<>();
        eval.put("mse", points(0.1, 0.01));
        eval.put("loss", points(0.3, 0.16));
        eval.put("sparsity", points(0.2, 0.5));
        Map<String, String> descriptions = new LinkedHashMap<>();
        descriptions.put("training loss", "weighted loss; floor 1/6");
        descriptions.put("eval mse", "distance to the optimum: the signal");
        PlotModel model = RunPlots.lossModel("mip", new TrainingListener.History(points(0.4, 0.17), eval, Map.of()), descriptions);
        assertEquals(List.of("loss", "value"), model.panels().stream().map(PlotModel.Panel::yLabel).toList());
        assertEquals(List.of("training loss", "eval mse", "eval loss"), names(model.panels().get(0)));
        assertEquals(List.of("eval sparsity"), names(model.panels().get(1)));
        assertEquals(List.of("training loss: weighted loss; floor 1/6", "eval mse: distance to the optimum: the signal"), model.notes());
    }

    @Test
    void metricKindsFollowTheNamesLastPart() {
        assertEquals(RunPlots.Kind.ACCURACY, RunPlots.kind("interval.task3.accuracy"));
        assertEquals(RunPlots.Kind.ACCURACY, RunPlots.kind("acc"));
        assertEquals(RunPlots.Kind.LOSS, RunPlots.kind("task3.loss"));
        assertEquals(RunPlots.Kind.LOSS, RunPlots.kind("mse"));
        assertEquals(RunPlots.Kind.LOSS, RunPlots.kind("query_nll"));
        assertEquals(RunPlots.Kind.OTHER, RunPlots.kind("accuracy.gap"));
        assertEquals(RunPlots.Kind.OTHER, RunPlots.kind("sparsity"));
    }

    @Test
    void expertLoadsGetAPanelPerLayerWithTheBalancedShareDashed() {
        Map<String, List<double[]>> terms = new LinkedHashMap<>();
        for (int e = 0; e < 4; e++) {
            terms.put("2.expert_load." + e, points(0.1 * (e + 1), 0.25));
            terms.put("5.expert_load." + e, points(0.25, 0.25));
        }
        terms.put("2.drop_rate", points(0.1, 0.0));
        PlotModel model = ExpertLoadPlot.model("moe", terms);
        assertEquals(List.of("layer 2: expert load", "layer 5: expert load"), model.panels().stream().map(PlotModel.Panel::yLabel).toList());
        PlotModel.Panel first = model.panels().get(0);
        assertEquals(List.of("expert 0", "expert 1", "expert 2", "expert 3", "balanced (1/E)"), names(first));
        PlotModel.Line balanced = first.lines().get(4);
        assertTrue(balanced.dashed());
        assertEquals(0.25, balanced.points().get(0)[1]);
        assertFalse(first.lines().get(0).dashed());
        assertDistinctColours(first);
        assertNull(ExpertLoadPlot.model("dense", Map.of("2.drop_rate", points(0.1))));
    }

    @Test
    void theListenerWritesBothPlotsAtACheckpoint(@TempDir Path dir) throws Exception {
        RunPlots plots = new RunPlots();
        Map<String, List<double[]>> terms = Map.of("expert_load.0", points(0.5), "expert_load.1", points(0.5));
        plots.checkpointWritten(new TrainingListener.CheckpointWritten(150, dir.resolve(Trainer.CHECKPOINT_FILE), dir,
                new TrainingListener.History(points(0.4), Map.of(), terms)));
        for (String name : List.of(Trainer.PLOT_FILE, Trainer.EXPERTS_PLOT_FILE)) {
            byte[] png = Files.readAllBytes(dir.resolve(name));
            assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(png, 4), name);
        }
    }
}
