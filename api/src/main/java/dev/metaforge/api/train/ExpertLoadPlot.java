package dev.metaforge.api.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The per-expert load of mixture-of-experts layers over training, read from the logged terms named
 * {@code [layer.]expert_load.i} (what {@code MixtureOfExperts} reports): one curve per expert, linear
 * axis, the balanced share 1/E as a reference line.
 */
final class ExpertLoadPlot {
    private static final Pattern LOAD = Pattern.compile("^(?:(.*)\\.)?expert_load\\.(\\d+)$");

    private ExpertLoadPlot() {
    }

    /** The PNG, or null when no term is an expert load. */
    static byte[] png(String run, Map<String, List<double[]>> terms) {
        Map<String, List<LossPlot.Series>> byLayer = new LinkedHashMap<>();
        for (Map.Entry<String, List<double[]>> e : terms.entrySet()) {
            Matcher m = LOAD.matcher(e.getKey());
            if (m.matches()) {
                String layer = m.group(1) == null ? "" : m.group(1);
                byLayer.computeIfAbsent(layer, l -> new ArrayList<>()).add(new LossPlot.Series(e.getKey(), e.getValue()));
            }
        }
        if (byLayer.isEmpty()) {
            return null;
        }
        List<LossPlot.Series> series = new ArrayList<>();
        boolean oneLayer = byLayer.size() == 1;
        List<double[]> balanced = new ArrayList<>();
        for (Map.Entry<String, List<LossPlot.Series>> layer : byLayer.entrySet()) {
            int experts = layer.getValue().size();
            for (LossPlot.Series s : layer.getValue()) {
                Matcher m = LOAD.matcher(s.name());
                m.matches();
                String label = (oneLayer ? "" : (layer.getKey().isEmpty() ? "" : layer.getKey() + " ")) + "expert " + m.group(2);
                series.add(new LossPlot.Series(label, s.points()));
                if (oneLayer && balanced.isEmpty()) {
                    for (double[] p : s.points()) {
                        balanced.add(new double[] {p[0], 1.0 / experts});
                    }
                }
            }
        }
        if (oneLayer) {
            series.add(new LossPlot.Series("balanced (1/E)", balanced));
        }
        return LossPlot.pngOfSeries(run + ": fraction of assignments per expert", series, false, "expert load");
    }
}
