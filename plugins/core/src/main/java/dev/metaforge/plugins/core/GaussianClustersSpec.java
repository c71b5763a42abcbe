package dev.metaforge.plugins.core;

import dev.metaforge.api.data.GaussianClusters;
import dev.metaforge.api.data.LabelledDataset;
import dev.metaforge.api.data.LabelledDatasetSpec;
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
public record GaussianClustersSpec(Long seed, Integer fromClass, Integer toClass, Integer examplesPerClass,
        Integer informativeDims, Integer noiseDims, Double clusterStd, Double noiseStd) implements LabelledDatasetSpec {
    public GaussianClustersSpec {
        seed = seed == null ? 7L : seed;
        fromClass = fromClass == null ? 0 : fromClass;
        toClass = toClass == null ? 64 : toClass;
        examplesPerClass = examplesPerClass == null ? 20 : examplesPerClass;
        informativeDims = informativeDims == null ? 4 : informativeDims;
        noiseDims = noiseDims == null ? 12 : noiseDims;
        clusterStd = clusterStd == null ? 0.3 : clusterStd;
        noiseStd = noiseStd == null ? 2.0 : noiseStd;
    }

    @Override
    public LabelledDataset build(BuildContext context) {
        return GaussianClusters.generate(seed, fromClass, toClass, examplesPerClass, informativeDims, noiseDims, clusterStd, noiseStd);
    }
}
