package dev.metaforge.cli.run;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The per-expert load of mixture-of-experts layers over training, read from the logged terms named
 * {@code [layer.]expert_load.i} (what {@code MixtureOfExperts} reports): one panel per layer, one curve
 * per expert, linear axis, the balanced share 1/E as a dashed reference line.
 */
final class ExpertLoadPlot {
    private static final Pattern LOAD = Pattern.compile("^(?:(.*)\\.)?expert_load\\.(\\d+)$");
    /** More layers than this are drawn as the first ones only: a plot stays readable. */
    private static final int MAX_PANELS = 4;

    private ExpertLoadPlot() {
    }

    /** The plot, or null when no term is an expert load. */
    static PlotModel model(String run, Map<String, List<double[]>> terms) {
        Map<String, Map<String, List<double[]>>> byLayer = new LinkedHashMap<>();
        for (Map.Entry<String, List<double[]>> e : terms.entrySet()) {
            Matcher m = LOAD.matcher(e.getKey());
            if (m.matches()) {
                String layer = m.group(1) == null ? "" : m.group(1);
                byLayer.computeIfAbsent(layer, l -> new LinkedHashMap<>()).put("expert " + m.group(2), e.getValue());
            }
        }
        if (byLayer.isEmpty()) {
            return null;
        }
        List<PlotModel.Panel> panels = new ArrayList<>();
        for (Map.Entry<String, Map<String, List<double[]>>> layer : byLayer.entrySet()) {
            if (panels.size() == MAX_PANELS) {
                break;
            }
            Map<String, List<double[]>> experts = layer.getValue();
            int count = experts.size() + 1;
            List<PlotModel.Line> lines = new ArrayList<>();
            List<double[]> balanced = new ArrayList<>();
            for (Map.Entry<String, List<double[]>> expert : experts.entrySet()) {
                lines.add(new PlotModel.Line(expert.getKey(), PlotModel.colour(lines.size(), count), false, expert.getValue()));
                if (balanced.isEmpty()) {
                    for (double[] p : expert.getValue()) {
                        balanced.add(new double[] {p[0], 1.0 / experts.size()});
                    }
                }
            }
            lines.add(new PlotModel.Line("balanced (1/E)", 0x000000, true, balanced));
            String label = layer.getKey().isEmpty() ? "expert load" : "layer " + layer.getKey() + ": expert load";
            panels.add(new PlotModel.Panel(label, PlotModel.Scale.LINEAR, lines));
        }
        List<String> notes = new ArrayList<>();
        notes.add("expert load: the fraction of the batch's token assignments each expert received at a logged step");
        if (byLayer.size() > MAX_PANELS) {
            notes.add("showing the first " + MAX_PANELS + " of " + byLayer.size() + " mixture-of-experts layers");
        }
        return new PlotModel(run + ": fraction of assignments per expert", panels, notes);
    }
}
