package dev.metaforge.plugins.moe;

import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.Limits;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.SplittableRandom;

/**
 * {@code {"families": 3, "environments": 12, "contextWidth": 4, "points": 16, "seed": 1}}: a family of
 * dynamical-system-like regression environments, MixER's setting in miniature. Environment e
 * belongs to family {@code e mod F} and has parameters a, w in [0.5, 1.5]:
 * <ul>
 *   <li>family 0: {@code y = a sin(2 w x)}; family 1: {@code y = a (w x)² − 0.5};
 *       family 2: {@code y = a tanh(3 w x)}; family 3: {@code y = a cos(2 w x)};</li>
 *   <li>its context ξ_e is its family's centre (drawn in [-3, 3]^c, families at least 3 apart) plus
 *       N(0, 0.2²) noise per axis — an
 *       observed descriptor of the environment, from which the gate must infer the family;</li>
 *   <li>a token is {@code [ξ_e, a, w, x]} (width c + 3) with x in [-1.5, 1.5], the target y.</li>
 * </ul>
 * Everything follows from {@code seed}.
 *
 * @param families     F, 1..4
 * @param environments M
 * @param contextWidth c
 * @param points       examples per environment per training step
 * @param seed         generator seed of the environments
 */
public record MixedSystems(
        @Range(min = 1, max = 4096, what = "system families") int families,
        @Range(min = 1, max = Limits.MAX_COUNT, what = "environments") int environments,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "context width") int contextWidth,
        @Range(min = 1, max = Limits.MAX_COUNT, what = "points per environment") int points,
        @Range(min = Long.MIN_VALUE, max = Long.MAX_VALUE, what = "seed (an integer)") long seed) {
    public MixedSystems {
        if (families < 1 || families > 4) {
            throw new IllegalArgumentException("field 'families' must be 1..4, got " + families);
        }
        Fields.positive(environments, "environments");
        Fields.positive(contextWidth, "contextWidth");
        Fields.positive(points, "points");
    }

    @JsonCreator
    static MixedSystems fromJson(@JsonProperty("families") Integer families, @JsonProperty("environments") Integer environments,
                                 @JsonProperty("contextWidth") Integer contextWidth, @JsonProperty("points") Integer points,
                                 @JsonProperty("seed") Long seed) {
        return new MixedSystems(Fields.orDefault(families, 3), Fields.orDefault(environments, 12), Fields.orDefault(contextWidth, 4),
                Fields.orDefault(points, 16), Fields.orDefault(seed, 1L));
    }

    /** Token width c + 3. */
    int width() {
        return contextWidth + 3;
    }

    /** The environments: context, family, parameters. */
    Environment[] environmentsList() {
        SplittableRandom random = new SplittableRandom(seed);
        double[][] centres = new double[families][contextWidth];
        for (int f = 0; f < families; f++) {
            // rejection sampling: families at least 3 apart (the noise per environment is 0.2 per axis)
            for (int attempt = 0; ; attempt++) {
                for (int i = 0; i < contextWidth; i++) {
                    centres[f][i] = -3 + 6 * random.nextDouble();
                }
                boolean apart = true;
                for (int g = 0; g < f; g++) {
                    double d2 = 0;
                    for (int i = 0; i < contextWidth; i++) {
                        d2 += (centres[f][i] - centres[g][i]) * (centres[f][i] - centres[g][i]);
                    }
                    apart &= d2 >= 9;
                }
                if (apart || attempt > 1000) {
                    break;
                }
            }
        }
        Environment[] out = new Environment[environments];
        for (int e = 0; e < environments; e++) {
            int f = e % families;
            double[] context = new double[contextWidth];
            for (int i = 0; i < contextWidth; i++) {
                context[i] = centres[f][i] + 0.2 * gaussian(random);
            }
            out[e] = new Environment(f, context, 0.5 + random.nextDouble(), 0.5 + random.nextDouble());
        }
        return out;
    }

    /**
     * One environment.
     *
     * @param family  its family
     * @param context ξ
     * @param a       amplitude
     * @param w       frequency or scale
     */
    record Environment(int family, double[] context, double a, double w) {
        double target(double x) {
            return switch (family) {
                case 0 -> a * Math.sin(2 * w * x);
                case 1 -> a * (w * x) * (w * x) - 0.5;
                case 2 -> a * Math.tanh(3 * w * x);
                default -> a * Math.cos(2 * w * x);
            };
        }

        /** The token [ξ, a, w, x] into {@code out} at {@code offset}. */
        void token(double x, double[] out, int offset) {
            System.arraycopy(context, 0, out, offset, context.length);
            out[offset + context.length] = a;
            out[offset + context.length + 1] = w;
            out[offset + context.length + 2] = x;
        }
    }

    private static double gaussian(SplittableRandom random) {
        double u1 = 1.0 - random.nextDouble();
        double u2 = random.nextDouble();
        return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
}
