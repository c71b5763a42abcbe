package dev.metaforge.api.data;

import dev.metaforge.api.random.RandomStream;
import dev.metaforge.spi.Shape;

/**
 * A generated classification set (a {@link LabelledDataset}) made for few-shot learning: class
 * {@code c} is a Gaussian cluster whose centre is drawn from N(0, I) in {@code informativeDims}
 * dimensions, with spread {@code clusterStd}, and every example also has {@code noiseDims}
 * pure-noise dimensions of scale {@code noiseStd}. With loud noise, raw distances are nearly
 * useless, so a metric learner must learn to ignore the noise dimensions: accuracy then measures
 * learning, not the geometry of the data.
 *
 * <p>Each class is generated from the seed and its own index only, so disjoint class ranges of
 * one seed give disjoint meta-training and meta-test classes of one distribution.
 */
public final class GaussianClusters {
    private GaussianClusters() {
    }

    /**
     * Classes {@code fromClass..toClass-1}, {@code examplesPerClass} each; labels are the class
     * indices; examples are vectors of {@code informativeDims + noiseDims}.
     */
    public static LabelledDataset generate(long seed, int fromClass, int toClass, int examplesPerClass,
            int informativeDims, int noiseDims, double clusterStd, double noiseStd) {
        if (fromClass < 0 || toClass <= fromClass || examplesPerClass <= 0 || informativeDims <= 0 || noiseDims < 0
                || !(clusterStd >= 0) || !(noiseStd >= 0)) {
            throw new IllegalArgumentException("gaussian clusters: need 0 <= fromClass < toClass, positive examplesPerClass and"
                    + " informativeDims, non-negative noiseDims and deviations; got classes [" + fromClass + ", " + toClass
                    + "), " + examplesPerClass + " per class, dims " + informativeDims + "+" + noiseDims
                    + ", std " + clusterStd + "/" + noiseStd);
        }
        int dims = informativeDims + noiseDims;
        int classes = toClass - fromClass;
        long bytes = 4L * classes * examplesPerClass * dims;
        if (bytes > Idx.defaultMaxBytes() || (long) classes * examplesPerClass > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("gaussian clusters: " + classes + " classes x " + examplesPerClass + " examples x "
                    + dims + " dims take " + bytes + " bytes as floats, more than the limit of " + Idx.defaultMaxBytes()
                    + " bytes (half the Java heap, at most 1 GiB); generate fewer classes, examples or dimensions");
        }
        float[] values = new float[classes * examplesPerClass * dims];
        int[] labels = new int[classes * examplesPerClass];
        int row = 0;
        for (int c = fromClass; c < toClass; c++) {
            RandomStream rng = RandomStream.of(seed * 0x9E3779B97F4A7C15L + c);
            double[] centre = new double[informativeDims];
            for (int d = 0; d < informativeDims; d++) {
                centre[d] = rng.nextGaussian();
            }
            for (int e = 0; e < examplesPerClass; e++, row++) {
                labels[row] = c;
                for (int d = 0; d < informativeDims; d++) {
                    values[row * dims + d] = (float) (centre[d] + clusterStd * rng.nextGaussian());
                }
                for (int d = informativeDims; d < dims; d++) {
                    values[row * dims + d] = (float) (noiseStd * rng.nextGaussian());
                }
            }
        }
        return LabelledDataset.ofFloats(values, Shape.of(dims), labels)
                .withSource("gaussian-clusters (seed " + seed + ", classes " + fromClass + ".." + (toClass - 1) + ")");
    }
}
