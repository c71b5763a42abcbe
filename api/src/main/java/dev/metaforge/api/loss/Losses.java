package dev.metaforge.api.loss;

import dev.metaforge.api.tensor.Tensor;

/** Loss functions; each returns a scalar tensor (the mean over the batch). */
public final class Losses {
    private Losses() {
    }

    /** Mean squared error over all elements. */
    public static Tensor mse(Tensor prediction, Tensor target) {
        checkSameShape("mse", prediction, target);
        return prediction.sub(target).square().mean();
    }

    /** Mean softmax cross-entropy of {@code logits} [..., C] against probability targets [..., C]. */
    public static Tensor crossEntropy(Tensor logits, Tensor targetProbabilities) {
        checkSameShape("crossEntropy", logits, targetProbabilities);
        return logits.softmaxCrossEntropy(targetProbabilities, -1).mean();
    }

    /** Mean softmax cross-entropy of {@code logits} [N, C] against INT64 class labels [N]. */
    public static Tensor crossEntropyWithLabels(Tensor logits, Tensor labels) {
        return crossEntropy(logits, oneHot(labels, logits.dim(-1)).cast(logits.dtype()));
    }

    /** One-hot encoding of INT64 labels [N] into [N, classes] (INT64 0/1). */
    public static Tensor oneHot(Tensor labels, int classes) {
        long[] range = new long[classes];
        for (int i = 0; i < classes; i++) {
            range[i] = i;
        }
        Tensor classIds = labels.engine().indices(range, classes);
        return labels.expandDims(-1).eq(classIds);
    }

    /**
     * Fraction of rows whose arg-max of {@code logits} [..., C] equals the INT64 label [...] (ties:
     * the lower class index). Computed on the backend; one number is copied out.
     */
    public static double accuracy(Tensor logits, Tensor labels) {
        if (labels.size() == 0) {
            return Double.NaN;
        }
        return logits.argmax(-1, false).eq(labels).cast(logits.dtype()).mean().item();
    }

    /** {@link #accuracy} against one-hot (or probability) targets of the logits' shape: their arg-max is the label. */
    public static double accuracyOneHot(Tensor logits, Tensor targets) {
        checkSameShape("accuracy", logits, targets);
        return accuracy(logits, targets.argmax(-1, false));
    }

    private static void checkSameShape(String what, Tensor a, Tensor b) {
        if (!a.shape().equals(b.shape())) {
            throw new IllegalArgumentException(what + ": prediction shape " + a.shape() + " differs from target shape " + b.shape());
        }
    }
}
