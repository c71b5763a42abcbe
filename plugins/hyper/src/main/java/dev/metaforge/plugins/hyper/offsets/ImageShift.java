package dev.metaforge.plugins.hyper.offsets;

import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;
import java.util.List;

/**
 * A per-example domain shift of image values: with probability {@code invert} an example is inverted
 * (v → 1 − v, for values in [0, 1]), then multiplied by a gain drawn uniformly from
 * [{@code gain[0]}, {@code gain[1]}] (a contrast change towards black). Each example draws its own,
 * so the shifted domain is a mixture and a network adapted per input can do better than any single
 * adapted network.
 *
 * <pre>{@code {"gain": [0.2, 1.0], "invert": 0.5}}</pre>
 *
 * @param gain   lowest and highest gain (default [1, 1]: no contrast change)
 * @param invert probability of inverting an example (default 1: every example inverted)
 */
public record ImageShift(
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "gain") List<Double> gain,
        @Range(min = 0, max = 1, what = "inversion probability") Double invert) {
    /** Fills defaults and checks the fields, naming them. */
    public ImageShift {
        gain = gain == null ? List.of(1.0, 1.0) : List.copyOf(gain);
        if (gain.size() != 2 || !(gain.get(0) >= 0) || !(gain.get(1) >= gain.get(0)) || gain.get(1) > Limits.MAX_MAGNITUDE) {
            throw new IllegalArgumentException("spec 'channel-offsets': field 'gain' must be [low, high] with 0 <= low <= high, got " + gain);
        }
        invert = invert == null ? 1.0 : invert;
        if (!(invert >= 0 && invert <= 1)) {
            throw new IllegalArgumentException("spec 'channel-offsets': field 'invert' must be a probability in [0, 1], got " + invert);
        }
    }

    /** One example's shift. */
    public record Draw(boolean inverted, double gain) {
        /** The shifted value of {@code v}. */
        public double apply(double v) {
            return gain * (inverted ? 1 - v : v);
        }
    }

    /** Draws one example's shift: the inversion first, then the gain. */
    public Draw draw(RandomStream rng) {
        boolean inverted = rng.nextDouble() < invert;
        double g = gain.get(0) + (gain.get(1) - gain.get(0)) * rng.nextDouble();
        return new Draw(inverted, g);
    }
}
