package dev.metaforge.bench;

import dev.metaforge.api.tensor.Engine;
import dev.metaforge.spi.Kernels;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * The matrix products of one hypernetwork step ({@code StepRateMain --workload hyper}) and nothing
 * else, straight on the backend's kernels: the generator's output layer forward ([66, 256] · [256,
 * 4096] + bias), its weight gradient ([66, 256]ᵀ · [66, 4096]) and its input gradient ([66, 4096] ·
 * [256, 4096]ᵀ), and the target network's first layer forward ([128, 784] · [784, 256] + bias) and
 * weight gradient ([128, 784]ᵀ · [128, 256]), with the transpose flags the step itself uses. These
 * five are 53-62% of the step's CPU time (KernelProfileMain, and the two workloads' rates). Side by side with
 * {@code step_rate.py --workload gemm}, which runs the products PyTorch's autograd runs for the same
 * layers, this says how much of the hypernetwork ratio is the BLAS each side links.
 */
final class HyperGemmStep implements AutoCloseable {
    private final Kernels k;
    private final List<NativeArray> owned = new ArrayList<>();
    private final NativeArray chunkHidden;
    private final NativeArray outWeight;
    private final NativeArray outBias;
    private final NativeArray chunkGrad;
    private final NativeArray x;
    private final NativeArray firstWeight;
    private final NativeArray firstBias;
    private final NativeArray firstGrad;

    HyperGemmStep(Engine engine) {
        k = engine.kernels();
        chunkHidden = array(66, 256, 1);
        outWeight = array(256, 4096, 2);
        outBias = array(1, 4096, 3);
        chunkGrad = array(66, 4096, 4);
        x = array(128, 784, 5);
        firstWeight = array(784, 256, 6);
        firstBias = array(1, 256, 7);
        firstGrad = array(128, 256, 8);
    }

    private NativeArray array(int rows, int columns, long seed) {
        NativeArray a = k.fromFloats(BenchEnvironment.uniform(rows * columns, -0.05, 0.05, seed),
                rows == 1 ? Shape.of(columns) : Shape.of(rows, columns));
        owned.add(a);
        return a;
    }

    /** The five products; returns 0 (there is no loss). */
    double step() {
        k.linear(chunkHidden, outWeight, outBias).close();
        k.matmul(chunkHidden, chunkGrad, true, false).close();
        k.matmul(chunkGrad, outWeight, false, true).close();
        k.linear(x, firstWeight, firstBias).close();
        k.matmul(x, firstGrad, true, false).close();
        return 0;
    }

    @Override
    public void close() {
        owned.forEach(NativeArray::close);
    }
}
