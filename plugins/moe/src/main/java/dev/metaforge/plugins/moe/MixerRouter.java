package dev.metaforge.plugins.moe;

import dev.metaforge.api.moe.Router;
import dev.metaforge.api.moe.Routing;
import dev.metaforge.api.moe.RoutingPlan;
import dev.metaforge.api.nn.ModuleCall;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.nn.StateSpec;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * MixER's gating (Nzoyem, Barton and Deakin 2025, "MixER: Better Mixture of Expert Routing for
 * Hierarchical Meta-Learning"): a top-1 gate over the first {@code contextWidth} features of each
 * token (an environment's context) that is <em>not</em> trained by gradient. It is fitted in closed
 * form: the contexts of all environments are clustered by K-means (k-means++ seeding, the best of
 * {@value #RESTARTS} restarts) into E clusters, and the gate
 * {@code [ξ, 1] · [W; b]} is the least-squares fit of the one-hot cluster labels (ridge λ), so
 * {@code argmax} sends each environment to its cluster's expert. Each token goes to exactly one
 * expert with weight 1 (sparse top-1: the expert alone produces the output), and the gate weights
 * live in the module's <em>state</em> ({@code weight} [c, E], {@code bias} [E]), so no gradient ever
 * reaches them; {@link MixerObjective} refits them between training steps.
 *
 * <p>Defining property, tested in {@code MixerTest}: the fitted gate is the least-squares solution
 * (the normal equations hold to 1e-9 in float64), routes every environment of a well-separated
 * family to one expert and different families to different experts, and the gating parameters
 * receive no gradient; trained on mixed sinusoid/polynomial/tanh systems the experts specialise.
 *
 * @param width        d, the token width
 * @param contextWidth c ≤ d, the leading features the gate reads
 * @param experts      E (the number of K-means clusters)
 */
record MixerRouter(int width, int contextWidth, int experts) implements Router {
    static final String WEIGHT = "weight";
    static final String BIAS = "bias";

    MixerRouter {
        Fields.positive(width, "width");
        Fields.positive(contextWidth, "contextWidth");
        Fields.positive(experts, "experts");
        if (contextWidth > width) {
            throw new IllegalArgumentException("field 'contextWidth' (" + contextWidth + ") exceeds the token width " + width);
        }
    }

    @Override
    public int k() {
        return 1;
    }

    @Override
    public List<ParamSpec> parameters() {
        return List.of();
    }

    @Override
    public List<StateSpec> stateSpecs() {
        return List.of(new StateSpec(WEIGHT, Shape.of(contextWidth, experts), 0.0), new StateSpec(BIAS, Shape.of(experts), 0.0));
    }

    @Override
    public String kind() {
        return "mixer";
    }

    @Override
    public Map<String, String> attributes() {
        Map<String, String> a = new LinkedHashMap<>(Router.super.attributes());
        a.put("contextWidth", Integer.toString(contextWidth));
        a.put("fit", "k-means + least squares");
        return a;
    }

    @Override
    public RoutingPlan route(Params params, Tensor tokens, ModuleCall call) {
        Tensor w = call.state().get(WEIGHT).stopGradient();
        Tensor b = call.state().get(BIAS).stopGradient();
        Tensor context = contextWidth == width ? tokens.stopGradient() : tokens.stopGradient().slice(1, 0, contextWidth);
        Tensor logits = context.matmul(w).add(b);
        Tensor top = logits.argmax(-1, true);                                       // [N, 1]
        Tensor gates = tokens.engine().full(Shape.of(tokens.dim(0), 1), 1.0, tokens.dtype());
        Tensor probabilities = top.eq(tokens.engine().arange(experts).reshape(1, experts)).cast(tokens.dtype());
        return Routing.tokenChoice(probabilities, top, gates, 0, Map.of(), Map.of(), call.state());
    }

    /**
     * The gate fitted to {@code contexts} (one row per environment, c values each): K-means with
     * k-means++ seeding from {@code seed} and {@code iterations} Lloyd steps, then ridge least
     * squares of the one-hot labels. Host-side, between training steps.
     */
    Fit fit(double[][] contexts, int iterations, double ridge, long seed) {
        int m = contexts.length;
        int[] labels = kMeans(contexts, experts, iterations, seed);
        int p = contextWidth + 1;
        double[][] gram = new double[p][p];
        double[][] rhs = new double[p][experts];
        for (int i = 0; i < m; i++) {
            double[] row = augmented(contexts[i]);
            for (int a = 0; a < p; a++) {
                for (int c = 0; c < p; c++) {
                    gram[a][c] += row[a] * row[c];
                }
                rhs[a][labels[i]] += row[a];
            }
        }
        for (int a = 0; a < contextWidth; a++) {
            gram[a][a] += ridge;
        }
        double[][] solution = solve(gram, rhs);
        return new Fit(labels, solution);
    }

    /** The result of {@link #fit}: K-means labels per environment and the gate [c + 1, E] (last row: bias). */
    record Fit(int[] labels, double[][] gate) {
        /** The router state holding this gate. */
        Params state(Engine engine, DType dtype) {
            int c = gate.length - 1;
            int e = gate[0].length;
            double[] w = new double[c * e];
            double[] b = new double[e];
            for (int i = 0; i < c; i++) {
                System.arraycopy(gate[i], 0, w, i * e, e);
            }
            System.arraycopy(gate[c], 0, b, 0, e);
            Map<String, Tensor> out = new LinkedHashMap<>();
            out.put(WEIGHT, engine.tensor(w, Shape.of(c, e), dtype));
            out.put(BIAS, engine.tensor(b, Shape.of(e), dtype));
            return Params.of(out);
        }

        /** The expert the gate picks for a context. */
        int route(double[] context) {
            int best = 0;
            double bestValue = Double.NEGATIVE_INFINITY;
            for (int e = 0; e < gate[0].length; e++) {
                double v = gate[gate.length - 1][e];
                for (int i = 0; i < context.length; i++) {
                    v += context[i] * gate[i][e];
                }
                if (v > bestValue) {
                    bestValue = v;
                    best = e;
                }
            }
            return best;
        }
    }

    private double[] augmented(double[] context) {
        double[] row = new double[contextWidth + 1];
        System.arraycopy(context, 0, row, 0, contextWidth);
        row[contextWidth] = 1;
        return row;
    }

    /** Restarts of K-means; the labelling with the least within-cluster sum of squares wins. */
    static final int RESTARTS = 8;

    /**
     * Lloyd's K-means with k-means++ seeding, {@value #RESTARTS} restarts from streams of
     * {@code seed}, the least inertia kept; empty clusters are re-seeded at the farthest point.
     */
    static int[] kMeans(double[][] points, int k, int iterations, long seed) {
        SplittableRandom seeds = new SplittableRandom(seed);
        int[] best = null;
        double bestInertia = Double.POSITIVE_INFINITY;
        for (int r = 0; r < RESTARTS; r++) {
            int[] labels = kMeansOnce(points, k, iterations, seeds.nextLong());
            double inertia = inertia(points, labels, k);
            if (inertia < bestInertia) {
                bestInertia = inertia;
                best = labels;
            }
        }
        return best;
    }

    private static double inertia(double[][] points, int[] labels, int k) {
        int dim = points[0].length;
        double[][] sums = new double[k][dim];
        int[] counts = new int[k];
        for (int i = 0; i < points.length; i++) {
            counts[labels[i]]++;
            for (int f = 0; f < dim; f++) {
                sums[labels[i]][f] += points[i][f];
            }
        }
        double total = 0;
        for (int i = 0; i < points.length; i++) {
            for (int f = 0; f < dim; f++) {
                double d = points[i][f] - sums[labels[i]][f] / counts[labels[i]];
                total += d * d;
            }
        }
        return total;
    }

    private static int[] kMeansOnce(double[][] points, int k, int iterations, long seed) {
        int m = points.length;
        int dim = points[0].length;
        SplittableRandom random = new SplittableRandom(seed);
        double[][] centres = new double[k][];
        centres[0] = points[random.nextInt(m)].clone();
        double[] nearest = new double[m];
        for (int c = 1; c < k; c++) {
            double total = 0;
            for (int i = 0; i < m; i++) {
                nearest[i] = Double.POSITIVE_INFINITY;
                for (int j = 0; j < c; j++) {
                    nearest[i] = Math.min(nearest[i], distance(points[i], centres[j]));
                }
                total += nearest[i];
            }
            double pick = random.nextDouble() * total;
            int chosen = m - 1;
            for (int i = 0; i < m; i++) {
                pick -= nearest[i];
                if (pick <= 0) {
                    chosen = i;
                    break;
                }
            }
            centres[c] = points[chosen].clone();
        }
        int[] labels = new int[m];
        for (int it = 0; it < Math.max(1, iterations); it++) {
            for (int i = 0; i < m; i++) {
                int best = 0;
                for (int c = 1; c < k; c++) {
                    if (distance(points[i], centres[c]) < distance(points[i], centres[best])) {
                        best = c;
                    }
                }
                labels[i] = best;
            }
            double[][] sums = new double[k][dim];
            int[] counts = new int[k];
            for (int i = 0; i < m; i++) {
                counts[labels[i]]++;
                for (int f = 0; f < dim; f++) {
                    sums[labels[i]][f] += points[i][f];
                }
            }
            for (int c = 0; c < k; c++) {
                if (counts[c] == 0) {
                    int far = 0;
                    for (int i = 1; i < m; i++) {
                        if (distance(points[i], centres[labels[i]]) > distance(points[far], centres[labels[far]])) {
                            far = i;
                        }
                    }
                    centres[c] = points[far].clone();
                } else {
                    for (int f = 0; f < dim; f++) {
                        centres[c][f] = sums[c][f] / counts[c];
                    }
                }
            }
        }
        return labels;
    }

    private static double distance(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            double d = a[i] - b[i];
            s += d * d;
        }
        return s;
    }

    /** Solves {@code A X = B} (A symmetric positive definite, p x p) by Gaussian elimination with partial pivoting. */
    static double[][] solve(double[][] a, double[][] b) {
        int p = a.length;
        int q = b[0].length;
        double[][] m = new double[p][p + q];
        for (int i = 0; i < p; i++) {
            System.arraycopy(a[i], 0, m[i], 0, p);
            System.arraycopy(b[i], 0, m[i], p, q);
        }
        for (int col = 0; col < p; col++) {
            int pivot = col;
            for (int r = col + 1; r < p; r++) {
                if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) {
                    pivot = r;
                }
            }
            double[] t = m[col];
            m[col] = m[pivot];
            m[pivot] = t;
            if (Math.abs(m[col][col]) < 1e-300) {
                throw new IllegalArgumentException("mixer: the least-squares system is singular; raise 'ridge'");
            }
            for (int r = 0; r < p; r++) {
                if (r != col) {
                    double f = m[r][col] / m[col][col];
                    for (int c = col; c < p + q; c++) {
                        m[r][c] -= f * m[col][c];
                    }
                }
            }
        }
        double[][] x = new double[p][q];
        for (int i = 0; i < p; i++) {
            for (int j = 0; j < q; j++) {
                x[i][j] = m[i][p + j] / m[i][i];
            }
        }
        return x;
    }
}
