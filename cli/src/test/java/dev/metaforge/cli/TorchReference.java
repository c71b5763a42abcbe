package dev.metaforge.cli;

import dev.metaforge.api.checkpoint.TensorData;
import java.util.Arrays;
import java.util.Map;

/**
 * A float64 forward pass written from PyTorch's documented semantics, reading only an exported
 * state dict ({@code nn.Linear}'s weight [out, in], {@code nn.MultiheadAttention}'s packed
 * {@code in_proj_weight} [3d, d], BatchNorm's running buffers): the independent reference the
 * export tests compare Metaforge's own outputs with. It shares no code with Metaforge's modules.
 */
final class TorchReference {
    /** A row-major array of doubles with its shape. */
    record Arr(double[] v, int[] shape) {
        int dim(int axis) {
            return shape[axis < 0 ? shape.length + axis : axis];
        }

        int size() {
            return v.length;
        }

        static Arr of(TensorData t) {
            return new Arr(t.toDoubles(), t.shape().dims());
        }

        Arr reshape(int... dims) {
            return new Arr(v, dims);
        }
    }

    private final Map<String, TensorData> state;

    TorchReference(Map<String, TensorData> state) {
        this.state = state;
    }

    Arr t(String name) {
        TensorData d = state.get(name);
        if (d == null) {
            throw new AssertionError("the exported state dict has no '" + name + "'; it has " + state.keySet());
        }
        return Arr.of(d);
    }

    /** nn.Linear: y = x W^T + b over the last axis, W [out, in]. */
    Arr linear(Arr x, String prefix) {
        Arr w = t(prefix + ".weight");
        Arr b = state.containsKey(prefix + ".bias") ? t(prefix + ".bias") : null;
        return linear(x, w, b);
    }

    static Arr linear(Arr x, Arr w, Arr b) {
        int out = w.dim(0);
        int in = w.dim(1);
        if (x.dim(-1) != in) {
            throw new AssertionError("linear: input " + Arrays.toString(x.shape()) + " vs weight " + Arrays.toString(w.shape()));
        }
        int rows = x.size() / in;
        double[] y = new double[rows * out];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double s = b == null ? 0 : b.v()[o];
                for (int i = 0; i < in; i++) {
                    s += x.v()[r * in + i] * w.v()[o * in + i];
                }
                y[r * out + o] = s;
            }
        }
        int[] shape = x.shape().clone();
        shape[shape.length - 1] = out;
        return new Arr(y, shape);
    }

    /** nn.Conv2d on NCHW, weight [O, C/groups, kh, kw]. */
    Arr conv2d(Arr x, String prefix, int stride, int padding, int dilation, int groups) {
        Arr w = t(prefix + ".weight");
        Arr b = state.containsKey(prefix + ".bias") ? t(prefix + ".bias") : null;
        int n = x.dim(0);
        int c = x.dim(1);
        int h = x.dim(2);
        int wd = x.dim(3);
        int o = w.dim(0);
        int cg = w.dim(1);
        int kh = w.dim(2);
        int kw = w.dim(3);
        int oh = (h + 2 * padding - dilation * (kh - 1) - 1) / stride + 1;
        int ow = (wd + 2 * padding - dilation * (kw - 1) - 1) / stride + 1;
        int perGroupOut = o / groups;
        double[] y = new double[n * o * oh * ow];
        for (int s = 0; s < n; s++) {
            for (int oc = 0; oc < o; oc++) {
                int g = oc / perGroupOut;
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        double sum = b == null ? 0 : b.v()[oc];
                        for (int ic = 0; ic < cg; ic++) {
                            int channel = g * cg + ic;
                            for (int a = 0; a < kh; a++) {
                                for (int bb = 0; bb < kw; bb++) {
                                    int row = i * stride - padding + a * dilation;
                                    int col = j * stride - padding + bb * dilation;
                                    if (row < 0 || row >= h || col < 0 || col >= wd) {
                                        continue;
                                    }
                                    sum += x.v()[((s * c + channel) * h + row) * wd + col] * w.v()[((oc * cg + ic) * kh + a) * kw + bb];
                                }
                            }
                        }
                        y[((s * o + oc) * oh + i) * ow + j] = sum;
                    }
                }
            }
        }
        return new Arr(y, new int[] {n, o, oh, ow});
    }

    /** BatchNorm in eval mode: (x - running_mean) / sqrt(running_var + eps) * weight + bias, channel on axis 1. */
    Arr batchNormEval(Arr x, String prefix, double eps) {
        Arr mean = t(prefix + ".running_mean");
        Arr var = t(prefix + ".running_var");
        Arr w = t(prefix + ".weight");
        Arr b = t(prefix + ".bias");
        int c = x.dim(1);
        int inner = x.size() / (x.dim(0) * c);
        double[] y = new double[x.size()];
        for (int i = 0; i < y.length; i++) {
            int ch = (i / inner) % c;
            y[i] = (x.v()[i] - mean.v()[ch]) / Math.sqrt(var.v()[ch] + eps) * w.v()[ch] + b.v()[ch];
        }
        return new Arr(y, x.shape());
    }

    /** nn.LayerNorm over the last axis (biased variance). */
    Arr layerNorm(Arr x, String prefix, double eps) {
        Arr w = t(prefix + ".weight");
        Arr b = t(prefix + ".bias");
        int d = x.dim(-1);
        double[] y = new double[x.size()];
        for (int r = 0; r < x.size() / d; r++) {
            double mean = 0;
            for (int i = 0; i < d; i++) {
                mean += x.v()[r * d + i];
            }
            mean /= d;
            double var = 0;
            for (int i = 0; i < d; i++) {
                double c = x.v()[r * d + i] - mean;
                var += c * c;
            }
            var /= d;
            for (int i = 0; i < d; i++) {
                y[r * d + i] = (x.v()[r * d + i] - mean) / Math.sqrt(var + eps) * w.v()[i] + b.v()[i];
            }
        }
        return new Arr(y, x.shape());
    }

    /** nn.MaxPool2d with stride = kernel, no padding. */
    static Arr maxPool(Arr x, int k) {
        int n = x.dim(0);
        int c = x.dim(1);
        int h = x.dim(2);
        int w = x.dim(3);
        int oh = h / k;
        int ow = w / k;
        double[] y = new double[n * c * oh * ow];
        for (int s = 0; s < n * c; s++) {
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++) {
                    double m = Double.NEGATIVE_INFINITY;
                    for (int a = 0; a < k; a++) {
                        for (int b = 0; b < k; b++) {
                            m = Math.max(m, x.v()[(s * h + i * k + a) * w + j * k + b]);
                        }
                    }
                    y[(s * oh + i) * ow + j] = m;
                }
            }
        }
        return new Arr(y, new int[] {n, c, oh, ow});
    }

    /**
     * nn.MultiheadAttention(batch_first=True) self-attention on [N, T, d]: q, k, v are the three row
     * blocks of in_proj_weight, softmax(q k^T / sqrt(d/heads)) v per head, then out_proj.
     */
    Arr selfAttention(Arr x, String prefix, int heads, boolean causal) {
        Arr inW = t(prefix + ".in_proj_weight");
        Arr inB = t(prefix + ".in_proj_bias");
        int d = x.dim(-1);
        int n = x.dim(0);
        int steps = x.dim(1);
        Arr[] qkv = new Arr[3];
        for (int p = 0; p < 3; p++) {
            double[] w = Arrays.copyOfRange(inW.v(), p * d * d, (p + 1) * d * d);
            double[] b = Arrays.copyOfRange(inB.v(), p * d, (p + 1) * d);
            qkv[p] = linear(x, new Arr(w, new int[] {d, d}), new Arr(b, new int[] {d}));
        }
        int hs = d / heads;
        double[] joined = new double[x.size()];
        for (int s = 0; s < n; s++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < steps; i++) {
                    double[] scores = new double[steps];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < steps; j++) {
                        if (causal && j > i) {
                            scores[j] = Double.NEGATIVE_INFINITY;
                            continue;
                        }
                        double dot = 0;
                        for (int e = 0; e < hs; e++) {
                            dot += qkv[0].v()[(s * steps + i) * d + h * hs + e] * qkv[1].v()[(s * steps + j) * d + h * hs + e];
                        }
                        scores[j] = dot / Math.sqrt(hs);
                        max = Math.max(max, scores[j]);
                    }
                    double total = 0;
                    for (int j = 0; j < steps; j++) {
                        scores[j] = Math.exp(scores[j] - max);
                        total += scores[j];
                    }
                    for (int e = 0; e < hs; e++) {
                        double sum = 0;
                        for (int j = 0; j < steps; j++) {
                            sum += scores[j] / total * qkv[2].v()[(s * steps + j) * d + h * hs + e];
                        }
                        joined[(s * steps + i) * d + h * hs + e] = sum;
                    }
                }
            }
        }
        return linear(new Arr(joined, x.shape()), prefix + ".out_proj");
    }

    static Arr map(Arr x, java.util.function.DoubleUnaryOperator f) {
        double[] y = new double[x.size()];
        for (int i = 0; i < y.length; i++) {
            y[i] = f.applyAsDouble(x.v()[i]);
        }
        return new Arr(y, x.shape());
    }

    static Arr add(Arr a, Arr b) {
        double[] y = new double[a.size()];
        for (int i = 0; i < y.length; i++) {
            y[i] = a.v()[i] + b.v()[i];
        }
        return new Arr(y, a.shape());
    }

    /** GELU, tanh approximation (F.gelu(x, approximate="tanh")). */
    static double geluTanh(double x) {
        return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }
}
