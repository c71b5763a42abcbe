package dev.metaforge.api.loss;

import dev.metaforge.api.tensor.Tensor;

/**
 * How a task judges predictions, per task of a batch: predictions and targets are
 * {@code [T, n, outputs]} and the result is {@code [T]}, each task's mean loss. Summing the
 * result gives every task its own gradient (tasks are independent), which is how one backward
 * pass serves a whole meta-batch.
 */
public enum TaskLoss {
    /** Mean squared error over the points and outputs of each task (regression). */
    MSE {
        @Override
        public Tensor perTask(Tensor predictions, Tensor targets) {
            checkShapes(this, predictions, targets);
            return predictions.sub(targets).square().mean(new int[] {1, 2}, false);
        }
    },
    /** Mean softmax cross-entropy of logits against one-hot targets of each task (classification). */
    CROSS_ENTROPY {
        @Override
        public Tensor perTask(Tensor predictions, Tensor targets) {
            checkShapes(this, predictions, targets);
            return predictions.softmaxCrossEntropy(targets, -1).mean(1, false);
        }
    };

    /** Each task's mean loss, shape {@code [T]}; differentiable. */
    public abstract Tensor perTask(Tensor predictions, Tensor targets);

    /** The mean over tasks of {@link #perTask}: a scalar. */
    public Tensor mean(Tensor predictions, Tensor targets) {
        return perTask(predictions, targets).mean();
    }

    /**
     * Fraction of points whose arg-max prediction equals the arg-max target, over every task
     * (classification; no gradient): {@link Losses#accuracyOneHot}.
     */
    public static double accuracy(Tensor logits, Tensor oneHotTargets) {
        checkShapes(CROSS_ENTROPY, logits, oneHotTargets);
        return Losses.accuracyOneHot(logits, oneHotTargets);
    }

    private static void checkShapes(TaskLoss loss, Tensor predictions, Tensor targets) {
        if (predictions.rank() != 3 || !predictions.shape().equals(targets.shape())) {
            throw new IllegalArgumentException("TaskLoss." + loss + ": predictions " + predictions.shape() + " and targets "
                    + targets.shape() + " must both be [T, n, outputs]; check that the model's output size matches the task's");
        }
    }
}
