package dev.metaforge.backend.dl4j;

import dev.metaforge.spi.AdamResult;
import dev.metaforge.spi.AdamStep;
import dev.metaforge.spi.BinaryOp;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Kernels;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.ReduceOp;
import dev.metaforge.spi.Shape;
import dev.metaforge.spi.UnaryOp;
import dev.metaforge.tck.ComposedKernels;
import java.util.function.Supplier;

/**
 * Per-call cost of small kernels and 1024x1024 matmul throughput, for the module's notes (not a
 * test; a quick nanoTime loop, best of five repetitions). Run with the test classpath, and with
 * {@code OMP_WAIT_POLICY=PASSIVE} on a shared machine:
 * {@code java -cp ... dev.metaforge.backend.dl4j.Dl4jOverheadBench [iterations]}.
 */
public final class Dl4jOverheadBench {
    private Dl4jOverheadBench() {
    }

    static void time(String name, int n, Supplier<NativeArray> op) {
        for (int i = 0; i < n / 5; i++) {
            op.get().close();
        }
        long best = Long.MAX_VALUE;
        for (int rep = 0; rep < 5; rep++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                op.get().close();
            }
            best = Math.min(best, System.nanoTime() - t0);
        }
        System.out.printf("%-34s %8.2f us/call%n", name, best / 1e3 / n);
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        Kernels k = Dl4jTesting.k();
        NativeArray a = k.fromDoubles(Dl4jTesting.noise(16, 1), Shape.of(4, 4), DType.FLOAT32);
        NativeArray b = k.fromDoubles(Dl4jTesting.noise(16, 2), Shape.of(4, 4), DType.FLOAT32);
        NativeArray row = k.fromDoubles(Dl4jTesting.noise(4, 3), Shape.of(4), DType.FLOAT32);
        NativeArray col = k.fromDoubles(Dl4jTesting.noise(4, 4), Shape.of(4, 1), DType.FLOAT32);
        NativeArray idx = k.fromLongs(new long[] {3, 1}, Shape.of(2));
        time("full [4,4]", n, () -> k.full(Shape.of(4, 4), 1, DType.FLOAT32));
        time("fromFloats [4,4]", n, () -> k.fromFloats(new float[16], Shape.of(4, 4)));
        time("binary ADD same shape", n, () -> k.binary(BinaryOp.ADD, a, b));
        time("binary MUL same shape", n, () -> k.binary(BinaryOp.MUL, a, b));
        time("binary ADD [4,4]+[4]", n, () -> k.binary(BinaryOp.ADD, a, row));
        time("binary MUL [4,4]*[4,1]", n, () -> k.binary(BinaryOp.MUL, a, col));
        time("binary GT same shape", n, () -> k.binary(BinaryOp.GT, a, b));
        time("binaryScalar MUL", n, () -> k.binaryScalar(BinaryOp.MUL, a, 0.5));
        time("binaryScalar GT (Step)", n, () -> k.binaryScalar(BinaryOp.GT, a, 0));
        time("binaryScalar LT (mask+cast)", n, () -> k.binaryScalar(BinaryOp.LT, a, 0));
        time("unary EXP", n, () -> k.unary(UnaryOp.EXP, a));
        time("unary RELU", n, () -> k.unary(UnaryOp.RELU, a));
        time("reduce SUM axis 1", n, () -> k.reduce(ReduceOp.SUM, a, new int[] {1}, false));
        time("reduce SUM all", n, () -> k.reduce(ReduceOp.SUM, a, new int[0], false));
        time("softmax axis 1", n, () -> k.softmax(a, 1));
        time("logSumExp axis 1", n, () -> k.logSumExp(a, 1, false));
        time("matmul [4,4]x[4,4]", n, () -> k.matmul(a, b));
        time("linear [4,4]x[4,4]+[4]", n, () -> k.linear(a, b, row));
        time("reshape", n, () -> k.reshape(a, Shape.of(16)));
        time("transpose", n, () -> k.transpose(a, new int[] {1, 0}));
        time("gather axis 0", n, () -> k.gather(a, idx, 0));
        time("where", n, () -> k.where(a, a, b));
        time("cast FLOAT64", n, () -> k.cast(a, DType.FLOAT64));
        time("adamUpdate (fused)", n, () -> {
            AdamResult r = k.adamUpdate(a, b, a, b, new AdamStep(1e-3, 0.9, 0.999, 1e-8, 0, false, 3));
            r.m().close();
            r.v().close();
            return r.param();
        });
        ComposedKernels composed = new ComposedKernels(k);
        time("adamUpdate (composed default)", n, () -> {
            AdamResult r = composed.adamUpdate(a, b, a, b, new AdamStep(1e-3, 0.9, 0.999, 1e-8, 0, false, 3));
            r.m().close();
            r.v().close();
            return r.param();
        });

        int size = 1024;
        NativeArray x = k.randomUniform(Shape.of(size, size), DType.FLOAT32, -1, 1, 1);
        NativeArray y = k.randomUniform(Shape.of(size, size), DType.FLOAT32, -1, 1, 2);
        for (int i = 0; i < 3; i++) {
            k.matmul(x, y).close();
        }
        double bestSeconds = Double.MAX_VALUE;
        for (int rep = 0; rep < 10; rep++) {
            long t0 = System.nanoTime();
            k.matmul(x, y).close();
            bestSeconds = Math.min(bestSeconds, (System.nanoTime() - t0) / 1e9);
        }
        System.out.printf("matmul 1024x1024 float32: best %.2f ms = %.1f GFLOP/s%n", bestSeconds * 1e3,
                2.0 * size * size * size / bestSeconds / 1e9);
    }
}
