package dev.metaforge.plugins.hyper;

import dev.metaforge.api.data.LabelledDataset;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.SpecException;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * A training set and the test set held out of it, for experiments whose spec gives no {@code "test"}
 * dataset: a fixed shuffle (the same for every run, so the held-out examples never depend on the run's
 * seed), then the last {@code testFraction} of the examples. The shuffle makes datasets stored class by
 * class (generated clusters) split evenly.
 */
public record HeldOutSplit(LabelledDataset train, LabelledDataset test) {
    private static final long SHUFFLE_SEED = 0x5EED;

    /**
     * Splits {@code whole}; a fraction that leaves either side empty is a spec error at
     * {@code $.experiment.testFraction} naming {@code type}.
     */
    public static HeldOutSplit of(LabelledDataset whole, double testFraction, String type) {
        int n = whole.size();
        int cut = n - (int) Math.round(n * testFraction);
        if (cut < 1 || cut >= n) {
            throw new SpecException(type + " experiment: field 'testFraction' (" + testFraction + ") of " + n + " examples leaves an empty"
                    + " training or test set; give more examples, another fraction, or a \"test\" dataset",
                    "$.experiment.testFraction", null);
        }
        int[] all = IntStream.range(0, n).toArray();
        RandomStream shuffle = RandomStream.of(SHUFFLE_SEED);
        for (int i = n - 1; i > 0; i--) {
            int j = shuffle.nextInt(i + 1);
            int t = all[i];
            all[i] = all[j];
            all[j] = t;
        }
        return new HeldOutSplit(whole.subset(Arrays.copyOfRange(all, 0, cut)), whole.subset(Arrays.copyOfRange(all, cut, n)));
    }
}
