package dev.metaforge.plugins.core;

import dev.metaforge.api.data.GaussianClusters;
import dev.metaforge.api.data.LabelledDataset;
import dev.metaforge.api.data.LabelledDatasetSpec;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;
import dev.metaforge.api.train.BuildContext;

/**
 * {@code {"type": "gaussian-clusters", "fromClass": 0, "toClass": 64}}: {@link GaussianClusters};
 * use disjoint class ranges of one seed for meta-training and meta-test sets.
 *
 * @param seed             generator seed (default 7)
 * @param fromClass        first class index (default 0)
 * @param toClass          one past the last class index (default 64)
 * @param examplesPerClass examples of each class (default 20)
 * @param informativeDims  dimensions carrying the class (default 4)
 * @param noiseDims        pure-noise dimensions (default 12)
 * @param clusterStd       spread of a class around its centre (default 0.3)
 * @param noiseStd         scale of the noise dimensions (default 2)
 */
public record GaussianClustersSpec(
        @Range(min = Long.MIN_VALUE, max = Long.MAX_VALUE, what = "seed") Long seed,
        @Range(min = 0, max = Limits.MAX_COUNT, what = "first class") Integer fromClass,
        @Range(min = 1, max = Limits.MAX_COUNT, what = "end class (exclusive)") Integer toClass,
        @Range(min = 1, max = Limits.MAX_BATCH, what = "examples per class") Integer examplesPerClass,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "informative dimensions") Integer informativeDims,
        @Range(min = 0, max = Limits.MAX_WIDTH, what = "noise dimensions") Integer noiseDims,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "cluster standard deviation") Double clusterStd,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "noise standard deviation") Double noiseStd) implements LabelledDatasetSpec {
    public GaussianClustersSpec {
        seed = seed == null ? 7L : seed;
        fromClass = fromClass == null ? 0 : fromClass;
        toClass = toClass == null ? 64 : toClass;
        examplesPerClass = examplesPerClass == null ? 20 : examplesPerClass;
        informativeDims = informativeDims == null ? 4 : informativeDims;
        noiseDims = noiseDims == null ? 12 : noiseDims;
        clusterStd = clusterStd == null ? 0.3 : clusterStd;
        noiseStd = noiseStd == null ? 2.0 : noiseStd;
        // The whole dataset is generated in memory at build time.
        long values = Math.max(0L, (long) toClass - fromClass) * examplesPerClass * ((long) informativeDims + noiseDims);
        if (values > MAX_VALUES) {
            throw new IllegalArgumentException("gaussian-clusters: field 'examplesPerClass' with " + (toClass - fromClass)
                    + " classes of " + (informativeDims + noiseDims) + " dimensions makes " + values + " values, more than "
                    + MAX_VALUES + "; lower the class range, examplesPerClass or the dimensions");
        }
    }

    /** The most values a generated dataset may hold: 2^26 (256 MiB as floats). */
    static final long MAX_VALUES = 1L << 26;

    @Override
    public LabelledDataset build(BuildContext context) {
        return GaussianClusters.generate(seed, fromClass, toClass, examplesPerClass, informativeDims, noiseDims, clusterStd, noiseStd);
    }
}
