package dev.metaforge.plugins.metanet;

import dev.metaforge.api.graph.GraphLayout;
import dev.metaforge.api.graph.ParamGraph;
import dev.metaforge.api.tensor.Params;
import java.util.ArrayList;
import java.util.List;

/**
 * The graph metanetwork's invariant head written as plain Java loops over nodes and edges (one
 * network), from the equations in {@link GraphMetaNetwork}'s javadoc: an independent reference for
 * the tensor implementation (segment sums, padded max tables, broadcasting). Only the constant
 * descriptors are taken from {@link MessageIndex}.
 */
final class GnnReference {
    private GnnReference() {
    }

    static double[] predict(GraphLayout layout, Params own, ParamGraph g, int d, int layers) {
        int n = layout.nodeCount();
        int m = layout.edgeCount();
        int fn = layout.nodeFeatureWidth();
        int fe = layout.edgeFeatureWidth();
        double[] nodes = g.nodes().toDoubles();
        double[] edges = g.edges().toDoubles();
        MessageIndex idx = new MessageIndex(layout);
        int nd = MessageIndex.NODE_DESCRIPTORS;
        int ed = MessageIndex.EDGE_DESCRIPTORS;
        int[] src = layout.edgeSources();
        int[] dst = layout.edgeTargets();
        double[][] h = new double[n][];
        for (int i = 0; i < n; i++) {
            double[] x = new double[fn + nd];
            System.arraycopy(nodes, i * fn, x, 0, fn);
            System.arraycopy(idx.nodeDescriptors, i * nd, x, fn, nd);
            h[i] = relu(dense(own, "encoder.node", x));
        }
        double[][] e = new double[m][];
        for (int k = 0; k < m; k++) {
            double[] x = new double[fe + ed];
            System.arraycopy(edges, k * fe, x, 0, fe);
            System.arraycopy(idx.edgeDescriptors, k * ed, x, fe, ed);
            e[k] = relu(dense(own, "encoder.edge", x));
        }
        for (int l = 0; l < layers; l++) {
            String p = "layer" + l;
            double[][] mf = new double[m][];
            double[][] mb = new double[m][];
            for (int k = 0; k < m; k++) {
                double[] t = relu(add(add(dense(own, p + ".edge.source", h[src[k]]), dense(own, p + ".edge.target", h[dst[k]])),
                        dense(own, p + ".edge.self", e[k])));
                e[k] = add(e[k], dense(own, p + ".edge.out", t));
            }
            for (int k = 0; k < m; k++) {
                mf[k] = relu(add(dense(own, p + ".forward.node", h[src[k]]), dense(own, p + ".forward.edge", e[k])));
                mb[k] = relu(add(dense(own, p + ".backward.node", h[dst[k]]), dense(own, p + ".backward.edge", e[k])));
            }
            double[][] af = pna(mf, dst, n, d);
            double[][] ab = pna(mb, src, n, d);
            double[][] next = new double[n][];
            for (int i = 0; i < n; i++) {
                double[] u = concat(h[i], af[i], ab[i]);
                next[i] = add(h[i], dense(own, p + ".node.out", relu(dense(own, p + ".node.hidden", u))));
            }
            h = next;
        }
        double[] mean = new double[d];
        double[] max = new double[d];
        java.util.Arrays.fill(max, Double.NEGATIVE_INFINITY);
        double[] edgeMean = new double[d];
        for (double[] hi : h) {
            for (int c = 0; c < d; c++) {
                mean[c] += hi[c] / n;
                max[c] = Math.max(max[c], hi[c]);
            }
        }
        for (double[] ek : e) {
            for (int c = 0; c < d; c++) {
                edgeMean[c] += ek[c] / m;
            }
        }
        return dense(own, "head.out", relu(dense(own, "head.hidden", concat(mean, max, edgeMean))));
    }

    private static double[][] pna(double[][] msg, int[] segment, int n, int d) {
        List<List<double[]>> by = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            by.add(new ArrayList<>());
        }
        for (int k = 0; k < msg.length; k++) {
            by.get(segment[k]).add(msg[k]);
        }
        double delta = 0;
        for (List<double[]> l : by) {
            delta += Math.log(l.size() + 1) / n;
        }
        delta = Math.max(1e-6, delta);
        double[][] out = new double[n][];
        for (int i = 0; i < n; i++) {
            List<double[]> l = by.get(i);
            int deg = l.size();
            double[] mean = new double[d];
            double[] max = new double[d];
            double[] std = new double[d];
            if (deg > 0) {
                java.util.Arrays.fill(max, Double.NEGATIVE_INFINITY);
                double[] sq = new double[d];
                for (double[] v : l) {
                    for (int c = 0; c < d; c++) {
                        mean[c] += v[c] / deg;
                        sq[c] += v[c] * v[c] / deg;
                        max[c] = Math.max(max[c], v[c]);
                    }
                }
                for (int c = 0; c < d; c++) {
                    std[c] = Math.sqrt(Math.max(0, sq[c] - mean[c] * mean[c]) + 1e-5);
                }
            }
            double[] agg = concat(mean, max, std);
            double amp = Math.log(deg + 1) / delta;
            double att = deg > 0 ? delta / Math.log(deg + 1) : 0;
            out[i] = concat(agg, scale(agg, amp), scale(agg, att));
        }
        return out;
    }

    private static double[] dense(Params p, String name, double[] x) {
        double[] w = p.get(name + ".weight").toDoubles();
        int out = w.length / x.length;
        double[] y = p.contains(name + ".bias") ? p.get(name + ".bias").toDoubles() : new double[out];
        for (int i = 0; i < x.length; i++) {
            for (int o = 0; o < out; o++) {
                y[o] += x[i] * w[i * out + o];
            }
        }
        return y;
    }

    private static double[] relu(double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = Math.max(0, x[i]);
        }
        return y;
    }

    private static double[] add(double[] a, double[] b) {
        double[] y = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            y[i] = a[i] + b[i];
        }
        return y;
    }

    private static double[] scale(double[] a, double s) {
        double[] y = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            y[i] = a[i] * s;
        }
        return y;
    }

    private static double[] concat(double[]... parts) {
        int len = 0;
        for (double[] p : parts) {
            len += p.length;
        }
        double[] y = new double[len];
        int at = 0;
        for (double[] p : parts) {
            System.arraycopy(p, 0, y, at, p.length);
            at += p.length;
        }
        return y;
    }
}
