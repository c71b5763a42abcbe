package dev.metaforge.backend.dl4j;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * im2col and col2im for FLOAT32 in Java, over the dense native buffers, in the layout the dl4j
 * convolution kernels multiply: columns [C*kH*kW, N*oH*oW] (row (c, ki, kj), column (n, oy, ox)),
 * so the forward pass and both gradients are each one plain GEMM.
 *
 * <p>Why Java: libnd4j's im2col fills its output one element at a time with general offset
 * arithmetic, about 3 ns per element on one thread; these loops copy whole output rows and run
 * about three times faster on the graph-hypernetwork's convolutions (measured with
 * KernelProfileMain --workload ghn). libnd4j's col2im is likewise slower than the loop below.
 *
 * @param n  batch
 * @param c  input channels
 * @param h  input height
 * @param w  input width
 * @param kh kernel height
 * @param kw kernel width
 * @param sh stride (rows)
 * @param sw stride (columns)
 * @param ph padding (rows)
 * @param pw padding (columns)
 * @param dh dilation (rows)
 * @param dw dilation (columns)
 * @param oh output height
 * @param ow output width
 */
record ConvColumns(int n, int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int oh, int ow) {

    /** Writes the columns of x [N, C, H, W] into cols [C*kH*kW, N*oH*oW] (zeros where a window covers padding). */
    void im2col(FloatBuffer x, FloatBuffer cols) {
        int plane = h * w;
        int p = oh * ow;
        long stride = (long) n * p; // elements per column-matrix row
        float[] in = new float[plane];
        float[] block = new float[p]; // one (c, ki, kj) row's [oH, oW] for one batch entry, written with one bulk put
        for (int ci = 0; ci < c; ci++) {
            for (int ni = 0; ni < n; ni++) {
                x.get((ni * c + ci) * plane, in, 0, plane);
                for (int ki = 0; ki < kh; ki++) {
                    for (int kj = 0; kj < kw; kj++) {
                        int dx = kj * dw - pw;
                        // output columns whose tap lands inside the row: ox * sw + dx in [0, w)
                        int lo = dx >= 0 ? 0 : (-dx + sw - 1) / sw;
                        int hi = w - dx <= 0 ? 0 : Math.min(ow, (w - dx + sw - 1) / sw);
                        for (int oy = 0; oy < oh; oy++) {
                            int iy = oy * sh - ph + ki * dh;
                            int at = oy * ow;
                            if (iy < 0 || iy >= h || lo >= hi) {
                                Arrays.fill(block, at, at + ow, 0f);
                                continue;
                            }
                            Arrays.fill(block, at, at + lo, 0f);
                            Arrays.fill(block, at + hi, at + ow, 0f);
                            int from = iy * w + dx;
                            if (sw == 1) {
                                System.arraycopy(in, from + lo, block, at + lo, hi - lo);
                            } else {
                                for (int ox = lo; ox < hi; ox++) {
                                    block[at + ox] = in[from + ox * sw];
                                }
                            }
                        }
                        cols.put((int) (((ci * kh + ki) * kw + kj) * stride + (long) ni * p), block, 0, p);
                    }
                }
            }
        }
    }

    /** Sums cols [C*kH*kW, N*oH*oW] back onto the input elements they were read from: grad [N, C, H, W], every element written. */
    void col2im(FloatBuffer cols, FloatBuffer grad) {
        int plane = h * w;
        int p = oh * ow;
        long stride = (long) n * p;
        float[] acc = new float[plane];
        float[] block = new float[p];
        for (int ci = 0; ci < c; ci++) {
            for (int ni = 0; ni < n; ni++) {
                Arrays.fill(acc, 0f);
                for (int ki = 0; ki < kh; ki++) {
                    for (int kj = 0; kj < kw; kj++) {
                        int dx = kj * dw - pw;
                        int lo = dx >= 0 ? 0 : (-dx + sw - 1) / sw;
                        int hi = w - dx <= 0 ? 0 : Math.min(ow, (w - dx + sw - 1) / sw);
                        if (lo >= hi) {
                            continue;
                        }
                        cols.get((int) (((ci * kh + ki) * kw + kj) * stride + (long) ni * p), block, 0, p);
                        for (int oy = 0; oy < oh; oy++) {
                            int iy = oy * sh - ph + ki * dh;
                            if (iy < 0 || iy >= h) {
                                continue;
                            }
                            int from = iy * w + dx;
                            int at = oy * ow;
                            if (sw == 1) { // a unit-stride loop the JIT vectorises
                                for (int ox = lo; ox < hi; ox++) {
                                    acc[from + ox] += block[at + ox];
                                }
                            } else {
                                for (int ox = lo; ox < hi; ox++) {
                                    acc[from + ox * sw] += block[at + ox];
                                }
                            }
                        }
                    }
                }
                grad.put((ni * c + ci) * plane, acc, 0, plane);
            }
        }
    }
}
