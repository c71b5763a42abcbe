package dev.metaforge.plugins.moe;

import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.SplittableRandom;

/**
 * {@code {"modes": 4, "classes": 4, "vocab": 16, "length": 12, "train": 8192, "test": 2048, "seed": 1}}:
 * a synthetic token-sequence classification task that needs attention and rewards experts that
 * specialise by mode.
 *
 * <p>A sequence is {@code length} INT64 tokens: position 0 holds a <em>mode token</em> m in
 * [0, modes), the other {@code length - 1} positions hold <em>content tokens</em> in
 * [modes, modes + vocab), drawn uniformly. Every mode owns its own map from content tokens to
 * classes (a random balanced partition of the vocabulary); the label is the class most content
 * tokens fall into <em>under the sequence's mode</em> (sequences with a tie are drawn again). So a
 * content token means nothing without the mode token: the mode must travel from position 0 to
 * every position (attention), and each position then applies one of {@code modes} different
 * lookup tables (what a router can hand to different experts). A model that ignores the mode
 * can only exploit the overlap between the modes' maps. The embedding must have
 * {@link #tokens()} rows. Everything follows from {@code seed}.
 *
 * @param modes   number of modes (their tokens come first in the vocabulary)
 * @param classes number of classes (>= 2, at most {@code vocab})
 * @param vocab   number of content tokens
 * @param length  tokens per sequence, the mode token included (>= 2)
 * @param train   training sequences
 * @param test    held-out sequences
 * @param seed    generator seed (independent of the run's seed, so the data is fixed)
 */
public record ModeSequences(
        @Range(min = 1, max = 4096, what = "modes") int modes,
        @Range(min = 2, max = 4096, what = "classes") int classes,
        @Range(min = 2, max = Limits.MAX_COUNT, what = "content tokens") int vocab,
        @Range(min = 2, max = 4096, what = "tokens per sequence") int length,
        @Range(min = 1, max = Limits.MAX_COUNT, what = "training sequences") int train,
        @Range(min = 1, max = Limits.MAX_COUNT, what = "test sequences") int test,
        @Range(min = Long.MIN_VALUE, max = Long.MAX_VALUE, what = "seed (an integer)") long seed) {
    public ModeSequences {
        Fields.positive(modes, "modes");
        if (classes < 2) {
            throw new IllegalArgumentException("field 'classes' must be >= 2, got " + classes);
        }
        if (vocab < classes) {
            throw new IllegalArgumentException("field 'vocab' (" + vocab + ") must be at least field 'classes' (" + classes
                    + "): every class needs a content token in every mode");
        }
        if (length < 2) {
            throw new IllegalArgumentException("field 'length' must be >= 2 (the mode token and at least one content token), got "
                    + length);
        }
        Fields.positive(train, "train");
        Fields.positive(test, "test");
    }

    @JsonCreator
    static ModeSequences fromJson(@JsonProperty("modes") Integer modes, @JsonProperty("classes") Integer classes,
                                  @JsonProperty("vocab") Integer vocab, @JsonProperty("length") Integer length,
                                  @JsonProperty("train") Integer train, @JsonProperty("test") Integer test,
                                  @JsonProperty("seed") Long seed) {
        return new ModeSequences(Fields.orDefault(modes, 4), Fields.orDefault(classes, 4), Fields.orDefault(vocab, 16),
                Fields.orDefault(length, 12), Fields.orDefault(train, 8192), Fields.orDefault(test, 2048),
                Fields.orDefault(seed, 1L));
    }

    /** The vocabulary an embedding must cover: mode tokens, then content tokens. */
    public int tokens() {
        return modes + vocab;
    }

    /** A drawn split: {@code count} sequences of {@code length} tokens (row-major), their labels and modes. */
    record Split(long[] tokens, int[] labels, int[] modes, int length) {
        int size() {
            return labels.length;
        }
    }

    /** The training split (first) and the test split (second), under the same per-mode maps. */
    Split[] generate() {
        SplittableRandom random = new SplittableRandom(seed);
        int[][] classOf = new int[modes][vocab];
        for (int m = 0; m < modes; m++) {
            int[] order = permutation(vocab, random);
            for (int i = 0; i < vocab; i++) {
                classOf[m][order[i]] = i % classes;   // balanced: each class gets vocab / classes tokens (± 1)
            }
        }
        return new Split[] {draw(classOf, train, random), draw(classOf, test, random)};
    }

    private Split draw(int[][] classOf, int count, SplittableRandom random) {
        long[] tokens = new long[count * length];
        int[] labels = new int[count];
        int[] modeOf = new int[count];
        int[] counts = new int[classes];
        for (int i = 0; i < count; i++) {
            int mode = random.nextInt(modes);
            int label;
            do {
                java.util.Arrays.fill(counts, 0);
                for (int t = 1; t < length; t++) {
                    int content = random.nextInt(vocab);
                    tokens[i * length + t] = modes + content;
                    counts[classOf[mode][content]]++;
                }
                label = uniqueArgmax(counts);
            } while (label < 0);
            tokens[i * length] = mode;
            labels[i] = label;
            modeOf[i] = mode;
        }
        return new Split(tokens, labels, modeOf, length);
    }

    /** The index of the largest count, or -1 when it is shared. */
    private static int uniqueArgmax(int[] counts) {
        int best = 0;
        boolean tie = false;
        for (int c = 1; c < counts.length; c++) {
            if (counts[c] > counts[best]) {
                best = c;
                tie = false;
            } else if (counts[c] == counts[best]) {
                tie = true;
            }
        }
        return tie ? -1 : best;
    }

    private static int[] permutation(int n, SplittableRandom random) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
