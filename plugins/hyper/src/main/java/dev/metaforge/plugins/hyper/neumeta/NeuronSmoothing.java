package dev.metaforge.plugins.hyper.neumeta;

import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * NeuMeta's permutation smoothing (Yang et al. 2024, section 4) for a plain MLP given as host
 * float64 arrays: before a coordinate network is fitted to a trained network, the hidden neurons
 * of every hidden layer are reordered so that neighbouring indices carry similar weights, which
 * makes weight-as-a-function-of-index smooth enough for an implicit network to fit.
 *
 * <p>What is implemented: for hidden layer l, neuron i is described by the vector
 * [incoming row W_l[i,:], bias b_l[i], outgoing column W_{l+1}[:,i]] (both sides, as the paper
 * does, because the permutation moves both). The paper poses the ordering as a travelling-salesman
 * path over these vectors; here it is solved by the greedy nearest-neighbour heuristic under the
 * L1 distance, tried from every start neuron, keeping the shortest path; if no path is shorter
 * than the current order the current order is kept, so the total variation never increases.
 * Layers are processed first to last, each with the already-permuted neighbours. The permutation
 * moves rows of W_l and b_l and columns of W_{l+1} together, so the network's function is
 * unchanged (hidden activations are permuted exactly; the next layer sums them in another order,
 * so outputs agree to rounding).
 */
public final class NeuronSmoothing {
    private NeuronSmoothing() {}

    /**
     * An MLP's weights on the host: {@code weights.get(l)} is out x in, {@code biases.get(l)} has
     * length out.
     *
     * @param weights per-layer weight matrices, row = output neuron
     * @param biases  per-layer biases
     */
    public record Mlp(List<double[][]> weights, List<double[]> biases) {
        /** Checks that consecutive layers chain. */
        public Mlp {
            Objects.requireNonNull(weights, "weights is null");
            Objects.requireNonNull(biases, "biases is null");
            if (weights.size() != biases.size() || weights.isEmpty()) {
                throw new IllegalArgumentException("need one bias per weight matrix and at least one layer, got "
                        + weights.size() + " weights and " + biases.size() + " biases");
            }
            for (int l = 0; l < weights.size(); l++) {
                if (weights.get(l).length != biases.get(l).length) {
                    throw new IllegalArgumentException("layer " + l + ": weight has " + weights.get(l).length
                            + " rows but bias has " + biases.get(l).length);
                }
                if (l > 0 && weights.get(l)[0].length != weights.get(l - 1).length) {
                    throw new IllegalArgumentException("layer " + l + " takes " + weights.get(l)[0].length
                            + " inputs but layer " + (l - 1) + " gives " + weights.get(l - 1).length);
                }
            }
        }

        /**
         * Copies the parameters of an api {@link dev.metaforge.api.nn.Mlp} ("l.weight" [in, out],
         * "l.bias" [out]) with {@code layers} linear layers to the host.
         */
        public static Mlp fromParams(Params params, int layers) {
            List<double[][]> w = new ArrayList<>();
            List<double[]> b = new ArrayList<>();
            for (int l = 0; l < layers; l++) {
                Tensor weight = params.get(l + ".weight");
                int in = weight.shape().dim(0);
                int out = weight.shape().dim(1);
                double[] flat = weight.toDoubles();
                double[][] rows = new double[out][in];
                for (int i = 0; i < in; i++) {
                    for (int o = 0; o < out; o++) {
                        rows[o][i] = flat[i * out + o];
                    }
                }
                w.add(rows);
                b.add(params.get(l + ".bias").toDoubles());
            }
            return new Mlp(w, b);
        }

        /** The layer sizes, input first: [in, hidden..., out]. */
        public List<Integer> sizes() {
            List<Integer> sizes = new ArrayList<>();
            sizes.add(weights.get(0)[0].length);
            for (double[][] w : weights) {
                sizes.add(w.length);
            }
            return sizes;
        }

        /** The parameters of the api {@link dev.metaforge.api.nn.Mlp} of {@link #sizes()} holding these weights. */
        public Params toParams(Engine engine) {
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (int l = 0; l < weights.size(); l++) {
                double[][] w = weights.get(l);
                int in = w[0].length;
                int o = w.length;
                double[] flat = new double[in * o];
                for (int i = 0; i < in; i++) {
                    for (int k = 0; k < o; k++) {
                        flat[i * o + k] = w[k][i];
                    }
                }
                out.put(l + ".weight", engine.tensor(flat, in, o));
                out.put(l + ".bias", engine.tensor(biases.get(l).clone(), o));
            }
            return Params.of(out);
        }
    }

    /**
     * The smoothed network and the permutation applied to each hidden layer
     * ({@code perms.get(l)[k]} = old index of the neuron now at index k).
     *
     * @param mlp   the reordered network
     * @param perms one permutation per hidden layer
     */
    public record Result(Mlp mlp, List<int[]> perms) {}

    /** Reorders every hidden layer as described in the class comment. */
    public static Result smooth(Mlp mlp) {
        List<double[][]> w = new ArrayList<>();
        List<double[]> b = new ArrayList<>();
        for (int l = 0; l < mlp.weights().size(); l++) {
            w.add(copy(mlp.weights().get(l)));
            b.add(mlp.biases().get(l).clone());
        }
        List<int[]> perms = new ArrayList<>();
        for (int l = 0; l + 1 < w.size(); l++) {
            double[][] features = neuronFeatures(w.get(l), b.get(l), w.get(l + 1));
            int[] order = bestOrder(features);
            perms.add(order);
            double[][] wl = w.get(l);
            double[] bl = b.get(l);
            double[][] next = w.get(l + 1);
            double[][] nwl = new double[wl.length][];
            double[] nbl = new double[bl.length];
            double[][] nnext = new double[next.length][wl.length];
            for (int k = 0; k < order.length; k++) {
                nwl[k] = wl[order[k]].clone();
                nbl[k] = bl[order[k]];
                for (int o = 0; o < next.length; o++) {
                    nnext[o][k] = next[o][order[k]];
                }
            }
            w.set(l, nwl);
            b.set(l, nbl);
            w.set(l + 1, nnext);
        }
        return new Result(new Mlp(w, b), perms);
    }

    /** Total variation along the neuron axis of hidden layer l: sum of L1 distances of neighbours. */
    public static double totalVariation(Mlp mlp, int layer) {
        double[][] f = neuronFeatures(mlp.weights().get(layer), mlp.biases().get(layer),
                mlp.weights().get(layer + 1));
        int[] identity = new int[f.length];
        Arrays.setAll(identity, i -> i);
        return pathLength(f, identity);
    }

    static double[][] neuronFeatures(double[][] wl, double[] bl, double[][] next) {
        int n = wl.length;
        int in = wl[0].length;
        double[][] f = new double[n][in + 1 + next.length];
        for (int i = 0; i < n; i++) {
            System.arraycopy(wl[i], 0, f[i], 0, in);
            f[i][in] = bl[i];
            for (int o = 0; o < next.length; o++) {
                f[i][in + 1 + o] = next[o][i];
            }
        }
        return f;
    }

    private static int[] bestOrder(double[][] f) {
        int n = f.length;
        double[][] d = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                d[i][j] = d[j][i] = l1(f[i], f[j]);
            }
        }
        int[] best = new int[n];
        Arrays.setAll(best, i -> i);
        double bestLength = length(d, best);
        for (int start = 0; start < n; start++) {
            int[] path = greedy(d, start);
            double len = length(d, path);
            if (len < bestLength) {
                bestLength = len;
                best = path;
            }
        }
        return best;
    }

    private static int[] greedy(double[][] d, int start) {
        int n = d.length;
        boolean[] used = new boolean[n];
        int[] path = new int[n];
        path[0] = start;
        used[start] = true;
        for (int k = 1; k < n; k++) {
            int prev = path[k - 1];
            int next = -1;
            for (int j = 0; j < n; j++) {
                if (!used[j] && (next < 0 || d[prev][j] < d[prev][next])) {
                    next = j;
                }
            }
            path[k] = next;
            used[next] = true;
        }
        return path;
    }

    private static double length(double[][] d, int[] path) {
        double s = 0;
        for (int k = 1; k < path.length; k++) {
            s += d[path[k - 1]][path[k]];
        }
        return s;
    }

    private static double pathLength(double[][] f, int[] path) {
        double s = 0;
        for (int k = 1; k < path.length; k++) {
            s += l1(f[path[k - 1]], f[path[k]]);
        }
        return s;
    }

    private static double l1(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += Math.abs(a[i] - b[i]);
        }
        return s;
    }

    private static double[][] copy(double[][] m) {
        double[][] c = new double[m.length][];
        for (int i = 0; i < m.length; i++) {
            c[i] = m[i].clone();
        }
        return c;
    }
}
