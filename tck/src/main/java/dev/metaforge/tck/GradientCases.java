package dev.metaforge.tck;

import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Capability;
import dev.metaforge.spi.Conv2dOptions;
import dev.metaforge.spi.Shape;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * The autodiff rule table (JAX style): one row per differentiable op or composition, each a
 * scalar function of random inputs. AUTODIFF-* rules check every row's gradient and
 * Hessian-vector product (with respect to the first input, so a row whose first input is a
 * convolution weight takes second order through the other backward kernel).
 */
final class GradientCases {
    private GradientCases() {
    }

    /**
     * @param name     row name, shown in the report
     * @param shapes   input shapes
     * @param f        a scalar function of the inputs
     * @param positive inputs drawn from [0.5, 2] (log, sqrt, division) instead of [-2, 2]
     * @param needs    capabilities the row's kernels need; rows a backend cannot run are left out
     */
    record Case(String name, List<Shape> shapes, Function<Tensor[], Tensor> f, boolean positive, Set<Capability> needs) {
        /** True when {@code tck}'s backend declares what this row needs. */
        boolean runsOn(TckContext tck) {
            return needs.stream().allMatch(tck::supports);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private static Case c(String name, Function<Tensor[], Tensor> f, Shape... shapes) {
        return new Case(name, List.of(shapes), f, false, Set.of());
    }

    private static Case pos(String name, Function<Tensor[], Tensor> f, Shape... shapes) {
        return new Case(name, List.of(shapes), f, true, Set.of());
    }

    private static Case conv(String name, Function<Tensor[], Tensor> f, Shape... shapes) {
        return new Case(name, List.of(shapes), f, false, Set.of(Capability.CONVOLUTION));
    }

    private static Case indexed(String name, Function<Tensor[], Tensor> f, Shape... shapes) {
        return new Case(name, List.of(shapes), f, false, Set.of(Capability.INT64));
    }

    private static Shape s(int... dims) {
        return Shape.of(dims);
    }

    private static Conv2dOptions o(int stride, int padding, int dilation, int groups) {
        return new Conv2dOptions(new int[] {stride, stride}, new int[] {padding, padding}, new int[] {dilation, dilation}, groups);
    }

    private static final Conv2dOptions STRIDED = new Conv2dOptions(new int[] {2, 3}, new int[] {1, 0}, new int[] {1, 2}, 1);
    private static final Conv2dOptions GROUPED = new Conv2dOptions(new int[] {2, 1}, new int[] {1, 1}, new int[] {2, 1}, 2);

    /** Constant INT64 indices on the engine of {@code like}. */
    private static Tensor ids(Tensor like, long[] values, int... dims) {
        return like.engine().indices(values, dims);
    }

    static final List<Case> CASES = List.of(
            c("add (broadcast [2,3]+[3])", a -> a[0].add(a[1]).square().sum(), s(2, 3), s(3)),
            c("sub (broadcast [2,1]-[1,3])", a -> a[0].sub(a[1]).square().sum(), s(2, 1), s(1, 3)),
            c("mul", a -> a[0].mul(a[1]).square().sum(), s(2, 3), s(2, 3)),
            pos("div (broadcast)", a -> a[0].div(a[1]).sum(), s(3), s(2, 3)),
            pos("pow tensor", a -> a[0].pow(a[1]).sum(), s(2, 3), s(2, 3)),
            pos("pow scalar", a -> a[0].pow(1.7).sum(), s(4)),
            c("maximum", a -> a[0].maximum(a[1]).mul(a[0]).sum(), s(5), s(5)),
            c("minimum", a -> a[0].minimum(a[1]).mul(a[1]).sum(), s(5), s(5)),
            c("neg, abs", a -> a[0].neg().abs().mul(a[0]).sum(), s(6)),
            c("exp", a -> a[0].exp().sum(), s(2, 2)),
            pos("log", a -> a[0].log().sum(), s(2, 2)),
            pos("sqrt", a -> a[0].sqrt().sum(), s(3)),
            pos("reciprocal", a -> a[0].reciprocal().sum(), s(3)),
            c("tanh", a -> a[0].tanh().mul(a[0]).sum(), s(4)),
            c("sigmoid", a -> a[0].sigmoid().square().sum(), s(4)),
            c("relu", a -> a[0].relu().mul(a[0]).sum(), s(7)),
            c("sin, cos", a -> a[0].sin().mul(a[0].cos()).sum(), s(5)),
            c("softplus", a -> a[0].softplus().sum(), s(5)),
            c("matmul", a -> a[0].matmul(a[1]).square().sum(), s(2, 3), s(3, 4)),
            c("matmul batched, broadcast batch", a -> a[0].matmul(a[1]).square().sum(), s(2, 2, 3), s(3, 4)),
            c("matmul a @ b^T (flag)", a -> a[0].matmul(a[1], false, true).square().sum(), s(2, 3), s(4, 3)),
            c("matmul a^T @ b (flag)", a -> a[0].matmul(a[1], true, false).square().sum(), s(3, 2), s(3, 4)),
            c("matmul a^T @ b^T (flag), broadcast batch", a -> a[0].matmul(a[1], true, true).square().sum(), s(2, 3, 2), s(4, 3)),
            c("linear (fused matmul + bias)", a -> a[0].linear(a[1], a[2]).square().sum(), s(4, 3), s(3, 2), s(2)),
            c("linear without bias", a -> a[0].linear(a[1], null).square().sum(), s(4, 3), s(3, 2)),
            c("sum over an axis", a -> a[0].sum(1, false).square().sum(), s(2, 3, 2)),
            c("mean over axes, keepDims", a -> a[0].mean(new int[] {0, 2}, true).square().sum(), s(2, 3, 2)),
            c("max over an axis", a -> a[0].max(1, false).square().sum(), s(3, 4)),
            c("min over all axes", a -> a[0].min(new int[0], false).square(), s(3, 4)),
            c("softmax", a -> a[0].softmax(-1).mul(a[1]).sum(), s(2, 4), s(2, 4)),
            c("logSumExp", a -> a[0].logSumExp(1, false).square().sum(), s(3, 4)),
            c("logSoftmax", a -> a[0].logSoftmax(0).mul(a[1]).sum(), s(3, 2), s(3, 2)),
            c("softmaxCrossEntropy (fused)", a -> a[0].softmaxCrossEntropy(a[1].softmax(-1), -1).sum(), s(3, 4), s(3, 4)),
            // the logits' VJP is one kernel with its own written-out VJP: these rows take second order through its
            // cotangent input (a squared loss), its target input (a target made from the logits) and a middle axis
            c("softmaxCrossEntropy squared (second order through the loss's cotangent)",
                    a -> a[0].softmaxCrossEntropy(a[1].softmax(-1), -1).square().sum(), s(3, 4), s(3, 4)),
            c("softmaxCrossEntropy, target from the logits (second order through the target)",
                    a -> a[0].softmaxCrossEntropy(a[0].mul(a[1]).softmax(-1), -1).square().sum(), s(3, 4), s(3, 4)),
            c("softmaxCrossEntropy axis 1 of rank 3, squared",
                    a -> a[0].softmaxCrossEntropy(a[1].softmax(1), 1).square().sum(), s(2, 3, 4), s(2, 3, 4)),
            c("reshape, transpose", a -> a[0].reshape(3, 2).transpose(1, 0).matmul(a[1]).square().sum(), s(2, 3), s(3, 2)),
            c("broadcastTo", a -> a[0].broadcastTo(Shape.of(4, 3)).mul(a[1]).sum(), s(1, 3), s(4, 3)),
            c("slice", a -> a[0].slice(new int[] {1, 0}, new int[] {3, 2}).square().sum(), s(4, 3)),
            c("concat", a -> Tensor.concat(List.of(a[0], a[1]), 1).square().mul(a[2]).sum(), s(2, 2), s(2, 3), s(2, 5)),
            c("where", a -> Tensor.where(a[0].gt(0.0), a[0].mul(a[1]), a[1].square()).sum(), s(3, 3), s(3, 3)),
            c("gather, scatterAdd (through topK values)", a -> a[0].topK(2, 1).values().square().sum(), s(3, 5)),
            c("expandDims, squeeze", a -> a[0].expandDims(1).squeeze(1).exp().sum(), s(3)),
            c("stack", a -> Tensor.stack(List.of(a[0], a[1]), 0).square().sum(), s(2), s(2)),
            c("MLP 3-8-8-2 tanh/relu loss", a -> a[0].matmul(a[1]).tanh().matmul(a[2]).relu().matmul(a[3]).square().mean(),
                    s(5, 3), s(3, 8), s(8, 8), s(8, 2)),
            // ---- convolution: second order runs through the backward kernels' own VJPs ----
            conv("conv2d 3x3, padding 1", a -> a[0].conv2d(a[1], o(1, 1, 1, 1)).square().sum(), s(2, 2, 5, 5), s(3, 2, 3, 3)),
            conv("conv2d stride 2x3 over 8x8 (not divisible), padding 1x0, dilation 1x2",
                    a -> a[0].conv2d(a[1], STRIDED).square().sum(), s(1, 2, 8, 8), s(2, 2, 3, 2)),
            conv("conv2d dilation 2", a -> a[0].conv2d(a[1], o(1, 0, 2, 1)).tanh().sum(), s(1, 2, 6, 6), s(2, 2, 2, 3)),
            conv("conv2d 2 groups, stride 2x1 over 8x5, dilation 2x1", a -> a[0].conv2d(a[1], GROUPED).square().sum(),
                    s(2, 4, 8, 5), s(4, 2, 2, 2)),
            conv("conv2d, weight first (second order through the weight)",
                    a -> a[1].conv2d(a[0], o(2, 1, 1, 2)).square().mul(a[1].sum()).sum(), s(4, 1, 3, 3), s(1, 2, 5, 5)),
            conv("conv2dBackwardInput (stride 2x3, dilation 1x2)",
                    a -> Tensor.conv2dBackwardInput(a[0], a[1], s(1, 2, 8, 8), STRIDED).square().sum(), s(1, 2, 4, 2), s(2, 2, 3, 2)),
            conv("conv2dBackwardInput, weight first (2 groups)",
                    a -> Tensor.conv2dBackwardInput(a[1], a[0], s(2, 4, 8, 5), GROUPED).square().sum(), s(4, 2, 2, 2), s(2, 4, 4, 6)),
            conv("conv2dBackwardWeight (stride 2x3, dilation 1x2)",
                    a -> Tensor.conv2dBackwardWeight(a[0], a[1], s(2, 2, 3, 2), STRIDED).square().sum(), s(1, 2, 8, 8), s(1, 2, 4, 2)),
            conv("conv2dBackwardWeight, gradient first (2 groups)",
                    a -> Tensor.conv2dBackwardWeight(a[1], a[0], s(4, 2, 2, 2), GROUPED).square().sum(), s(2, 4, 4, 6), s(2, 4, 8, 5)),
            // ---- scans, orderings and segments ----
            c("cumsum", a -> a[0].cumsum(1).square().mul(a[1]).sum(), s(3, 4), s(3, 4)),
            c("cumsum along a negative axis", a -> a[0].cumsum(-3).tanh().sum(), s(4, 2, 2)),
            indexed("sort ascending", a -> a[0].sort(1, false).mul(a[1]).square().sum(), s(3, 5), s(3, 5)),
            indexed("sort descending along axis 0", a -> a[0].sort(0, true).square().mul(a[1]).sum(), s(4, 3), s(4, 3)),
            indexed("takeAlongAxis (repeated indices)",
                    a -> a[0].takeAlongAxis(ids(a[0], new long[] {4, 0, 4, 1, 2, 2, 3, 0, 1, 1, 1, 4}, 3, 4), 1).square().mul(a[1]).sum(),
                    s(3, 5), s(3, 4)),
            indexed("segmentSum (unsorted ids, an empty segment)",
                    a -> a[0].segmentSum(ids(a[0], new long[] {2, 0, 2, 3, 0}, 5), 4).square().mul(a[1]).sum(), s(5, 3), s(4, 3)),
            indexed("segmentMax (unsorted ids, an empty segment)",
                    a -> a[0].segmentMax(ids(a[0], new long[] {2, 0, 2, 3, 0, 2}, 6), 4).square().mul(a[1]).sum(), s(6, 2), s(4, 2)));
}
