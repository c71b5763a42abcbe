package dev.metaforge.plugins.moe;

import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.Limits;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.data.LabelledDataset;
import dev.metaforge.spi.Shape;
import java.util.SplittableRandom;

/**
 * {@code {"classes": 4, "features": 16, "modes": 3, "noise": 0.4, "train": 4096, "test": 1024, "seed": 1}}:
 * a synthetic multimodal classification task. Each class owns {@code modes} Gaussian clusters whose
 * centres are drawn uniformly from [-2, 2]^features; an example is a centre plus isotropic noise of
 * standard deviation {@code noise}. Classes interleave in input space, so a layer whose experts
 * specialise on regions has something to gain. Everything follows from {@code seed}.
 *
 * @param classes  number of classes (>= 2)
 * @param features input width
 * @param modes    clusters per class
 * @param noise    standard deviation around each centre
 * @param train    training examples
 * @param test     held-out examples
 * @param seed     generator seed (independent of the run's seed, so the data is fixed)
 */
public record ClustersData(
        @Range(min = 2, max = Limits.MAX_COUNT, what = "classes") int classes,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "features") int features,
        @Range(min = 1, max = Limits.MAX_COUNT, what = "modes per class") int modes,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "noise standard deviation") double noise,
        @Range(min = 1, max = Limits.MAX_COUNT, what = "training examples") int train,
        @Range(min = 1, max = Limits.MAX_COUNT, what = "test examples") int test,
        @Range(min = Long.MIN_VALUE, max = Long.MAX_VALUE, what = "seed (an integer)") long seed) {
    public ClustersData {
        if (classes < 2) {
            throw new IllegalArgumentException("field 'classes' must be >= 2, got " + classes);
        }
        Fields.positive(features, "features");
        Fields.positive(modes, "modes");
        Fields.nonNegative(noise, "noise");
        Fields.positive(train, "train");
        Fields.positive(test, "test");
    }

    @JsonCreator
    static ClustersData fromJson(@JsonProperty("classes") Integer classes, @JsonProperty("features") Integer features,
                                 @JsonProperty("modes") Integer modes, @JsonProperty("noise") Double noise,
                                 @JsonProperty("train") Integer train, @JsonProperty("test") Integer test,
                                 @JsonProperty("seed") Long seed) {
        return new ClustersData(Fields.orDefault(classes, 4), Fields.orDefault(features, 16), Fields.orDefault(modes, 3),
                Fields.orDefault(noise, 0.4), Fields.orDefault(train, 4096), Fields.orDefault(test, 1024),
                Fields.orDefault(seed, 1L));
    }

    /** The training set (first) and the test set (second), drawn from the same clusters. */
    LabelledDataset[] generate() {
        SplittableRandom random = new SplittableRandom(seed);
        double[][] centres = new double[classes * modes][features];
        for (double[] c : centres) {
            for (int f = 0; f < features; f++) {
                c[f] = -2 + 4 * random.nextDouble();
            }
        }
        return new LabelledDataset[] {draw(centres, train, random), draw(centres, test, random)};
    }

    private LabelledDataset draw(double[][] centres, int count, SplittableRandom random) {
        float[] x = new float[count * features];
        int[] y = new int[count];
        for (int i = 0; i < count; i++) {
            int cluster = random.nextInt(centres.length);
            y[i] = cluster % classes;
            for (int f = 0; f < features; f++) {
                x[i * features + f] = (float) (centres[cluster][f] + noise * gaussian(random));
            }
        }
        return LabelledDataset.ofFloats(x, Shape.of(features), y);
    }

    private static double gaussian(SplittableRandom random) {
        double u1 = 1.0 - random.nextDouble();
        double u2 = random.nextDouble();
        return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
}
