package dev.metaforge.api.train;

import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Params;

/**
 * An objective whose training step can be captured (by default in a training spec, see {@link TrainSpec#capture} and
 * {@link dev.metaforge.api.capture.StepCapture}): it splits {@link #lossTerms(Params, long, RandomStream)}
 * into the step's data, made by {@link #inputs} (host-side sampling, drawn from the step's random
 * stream), and a loss computed from the parameters and that data alone.
 *
 * <p>The contract that makes replay correct: {@link #lossTerms(Params, Params, RandomStream)} runs the same
 * kernels with the same arguments at every step whose inputs have the same shapes. It draws nothing
 * that changes from step to step, reads nothing back to the host, and updates no state of its own
 * (a module's running statistics, a snapshot). The capture checks what it can (two traced steps must
 * match; host reads and in-place kernels refuse), and {@link #captureRefusal()} says in advance when
 * this instance cannot keep the contract.
 *
 * <p>The eager step runs the same two methods ({@link #lossTerms(Params, long, RandomStream)} defaults to
 * them), so captured and eager training compute the same values.
 */
public interface CapturableObjective extends Objective {
    /**
     * The data of training step {@code step}, as named tensors (e.g. {@code "x"}, {@code "y"}), drawn
     * from {@code rng}; not differentiated.
     */
    Params inputs(long step, RandomStream rng);

    /**
     * The loss of one step on {@code inputs}; {@code params} are tracked. {@code rng} is the step's stream
     * after {@link #inputs} drew from it: a loss whose result depends on it cannot be replayed (the
     * capture notices and the run goes on eagerly).
     */
    LossTerms lossTerms(Params params, Params inputs, RandomStream rng);

    @Override
    default LossTerms lossTerms(Params params, long step, RandomStream rng) {
        return lossTerms(params, inputs(step, rng), rng);
    }

    @Override
    default dev.metaforge.api.tensor.Tensor loss(Params params, long step, RandomStream rng) {
        return lossTerms(params, step, rng).total();
    }

    /**
     * Why this instance's step cannot be captured (e.g. "the model keeps running statistics that every
     * step updates"), or null when it can. Default: null.
     */
    default String captureRefusal() {
        return null;
    }

    /** Why {@code objective}'s step cannot be captured (not a capturable objective, or its own refusal), or null. */
    static String refusal(Objective objective) {
        if (!(objective instanceof CapturableObjective c)) {
            return "it does not separate each step's data from its loss, so a replayed step could not be fed the next"
                    + " step's data (the README's \"Step capture\" section lists the experiments that can be captured)";
        }
        return c.captureRefusal();
    }
}
