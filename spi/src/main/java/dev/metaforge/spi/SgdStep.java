package dev.metaforge.spi;

/**
 * Hyper-parameters of one SGD update, for {@link Kernels#sgdUpdateForeach}: {@code torch.optim.SGD}
 * without dampening or Nesterov.
 *
 * @param learningRate step size ({@code > 0})
 * @param momentum     momentum factor ({@code >= 0}; 0: no buffer)
 * @param weightDecay  L2 coefficient, added to the gradient as {@code g + wd * p}
 */
public record SgdStep(double learningRate, double momentum, double weightDecay) {
    public SgdStep {
        if (!(learningRate > 0) || !(momentum >= 0)) {
            throw new IllegalArgumentException("SGD needs learning rate > 0 and momentum >= 0, got " + learningRate + ", " + momentum);
        }
    }
}
