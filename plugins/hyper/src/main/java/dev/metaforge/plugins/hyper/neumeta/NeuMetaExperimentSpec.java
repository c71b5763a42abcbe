package dev.metaforge.plugins.hyper.neumeta;

import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.ExperimentSpec;
import dev.metaforge.api.train.Objective;
import java.util.List;

/**
 * JSON type {@code neumeta}: a NeuMeta coordinate network trained with randomly sampled widths
 * (see {@link NeuMetaObjective}).
 *
 * @param frequencies Fourier frequencies per coordinate (default 3)
 * @param hidden      coordinate network hidden sizes (default [32, 32])
 * @param minWidth    smallest sampled hidden width (default 4)
 * @param maxWidth    largest sampled hidden width (default 32)
 * @param widths      widths reported by evaluation (default [4, 8, 16, 32])
 * @param batch       points per step (default 64)
 */
public record NeuMetaExperimentSpec(
        @Range(min = 0, max = 16, what = "Fourier frequencies") Integer frequencies,
        @Range(min = 1, max = 4096, what = "coordinate network hidden size") List<Integer> hidden,
        @Range(min = 1, max = 4096, what = "smallest sampled width") Integer minWidth,
        @Range(min = 1, max = 4096, what = "largest sampled width") Integer maxWidth,
        @Range(min = 1, max = 4096, what = "evaluated width") List<Integer> widths,
        @Range(min = 1, max = Limits.MAX_BATCH, what = "points per step") Integer batch) implements ExperimentSpec {
    /** The JSON type name. */
    public static final String TYPE = "neumeta";

    /** Fills defaults and checks ranges. */
    public NeuMetaExperimentSpec {
        frequencies = frequencies == null ? 3 : frequencies;
        hidden = hidden == null ? List.of(32, 32) : List.copyOf(hidden);
        minWidth = minWidth == null ? 4 : minWidth;
        maxWidth = maxWidth == null ? 32 : maxWidth;
        widths = widths == null ? List.of(4, 8, 16, 32) : List.copyOf(widths);
        batch = batch == null ? 64 : batch;
        if (minWidth < 1 || maxWidth < minWidth) {
            throw new IllegalArgumentException("spec 'neumeta': need 1 <= minWidth <= maxWidth, got minWidth "
                    + minWidth + " and maxWidth " + maxWidth + "; fix fields 'minWidth'/'maxWidth'");
        }
        if (frequencies < 0 || frequencies > 16 || batch < 1 || widths.stream().anyMatch(w -> w < 1)) {
            throw new IllegalArgumentException("spec 'neumeta': frequencies must be in [0, 16], batch >= 1 and every width >= 1; got frequencies "
                    + frequencies + ", batch " + batch + ", widths " + widths);
        }
    }

    @Override
    public Objective build(BuildContext context) {
        return new NeuMetaObjective(context.engine(), new ImplicitWeights(frequencies, hidden), minWidth, maxWidth, widths, batch);
    }
}
