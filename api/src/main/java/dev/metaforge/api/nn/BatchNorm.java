package dev.metaforge.api.nn;

import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Batch normalisation (PyTorch's {@code nn.BatchNorm1d} on [N, C] and {@code nn.BatchNorm2d} on
 * [N, C, H, W]): each channel (axis 1) is normalised over every other axis, then scaled by
 * {@code weight} [C] and shifted by {@code bias} [C] (when {@code affine}; initialised to 1 and 0).
 *
 * <p>Three call forms:
 * <ul>
 *   <li>{@link #forward} in TRAIN mode normalises with the batch's mean and biased variance and
 *       returns new running statistics, PyTorch's update:
 *       {@code running = (1 - momentum) running + momentum * batch}, with the <em>unbiased</em>
 *       batch variance (divisor n - 1) for {@code running_var}.</li>
 *   <li>{@link #forward} in EVAL mode normalises with {@code running_mean} and {@code running_var};
 *       the state is returned unchanged.</li>
 *   <li>{@link #apply} normalises with the batch's statistics and touches no state: transductive
 *       batch norm, as MAML's reference code uses it (each task's batch is normalised by itself).</li>
 * </ul>
 *
 * <p>Weight batch: parameters [B, C] and state [B, C]. An input [N, C] or [N, C, H, W] is shared by
 * the B networks; an input [B, N, C] or [B, N, C, H, W] gives each network its own (the input's
 * rank tells which, since one network's input has rank 2 or 4). Statistics are per network; the
 * output is [B, N, C, ...]. Without affine parameters the weight batch comes from the state or the
 * input. A batch of one takes the unbatched path and equals it exactly.
 *
 * @param features channels C
 * @param eps      added to the variance before the square root
 * @param momentum weight of the batch statistics in the running update, in [0, 1]
 * @param affine   whether there are {@code weight} and {@code bias}
 */
public record BatchNorm(int features, double eps, double momentum, boolean affine) implements Module {
    static final String RUNNING_MEAN = "running_mean";
    static final String RUNNING_VAR = "running_var";

    public BatchNorm {
        if (features <= 0) {
            throw new IllegalArgumentException("BatchNorm needs features > 0, got " + features);
        }
        if (!(eps > 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException("BatchNorm needs a finite eps > 0, got " + eps);
        }
        if (!(momentum >= 0 && momentum <= 1)) {
            throw new IllegalArgumentException("BatchNorm needs momentum in [0, 1], got " + momentum);
        }
    }

    /** PyTorch's defaults: eps 1e-5, momentum 0.1, affine. */
    public static BatchNorm of(int features) {
        return new BatchNorm(features, 1e-5, 0.1, true);
    }

    @Override
    public List<ParamSpec> parameters() {
        if (!affine) {
            return List.of();
        }
        List<ParamSpec> specs = new ArrayList<>(2);
        specs.add(new ParamSpec("weight", Shape.of(features), ParamKind.SCALE, List.of(Axis.OUT), 1, 1, Initializer.constant(1.0)));
        specs.add(new ParamSpec("bias", Shape.of(features), ParamKind.BIAS, List.of(Axis.OUT), 1, 1, Initializer.zeros()));
        return specs;
    }

    @Override
    public List<StateSpec> stateSpecs() {
        return List.of(new StateSpec(RUNNING_MEAN, Shape.of(features), 0.0), new StateSpec(RUNNING_VAR, Shape.of(features), 1.0));
    }

    @Override
    public String kind() {
        return "batchnorm";
    }

    /** Scales each channel of its input group: reads and writes that group (tied to it). */
    @Override
    public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
        NeuronGroup in = b.resolve(input, features);
        Map<String, String> params = new LinkedHashMap<>();
        if (affine) {
            params.put("scale", StructureBuilder.join(prefix, "weight"));
            params.put("bias", StructureBuilder.join(prefix, "bias"));
        }
        b.layer(prefix, kind(), in, in, params, Map.of("eps", Double.toString(eps), "momentum", Double.toString(momentum)));
        return in;
    }

    /** Normalises with the batch's own statistics; no state is read or written (see the class comment). */
    @Override
    public Tensor apply(Params params, Tensor input) {
        return run(params, input, null, false).output();
    }

    @Override
    public ModuleOutput forward(Params params, Tensor input, ModuleCall call) {
        Params state = call.state();
        if (!state.contains(RUNNING_MEAN) || !state.contains(RUNNING_VAR)) {
            throw new IllegalArgumentException("BatchNorm.forward needs its state '" + RUNNING_MEAN + "' and '" + RUNNING_VAR
                    + "' in the call, got " + state.names() + "; start from module.initState(engine, weightBatch)");
        }
        Result r = run(params, input, state, !call.training());
        if (!call.training()) {
            return ModuleOutput.of(r.output(), state);
        }
        Map<String, Tensor> next = new LinkedHashMap<>();
        next.put(RUNNING_MEAN, r.runningMean());
        next.put(RUNNING_VAR, r.runningVar());
        return ModuleOutput.of(r.output(), Params.of(next));
    }

    /** The output and, after batch statistics with a state, the updated running statistics. */
    private record Result(Tensor output, Tensor runningMean, Tensor runningVar) {
    }

    private Result run(Params params, Tensor x, Params state, boolean useRunning) {
        if (x.rank() < 2 || x.rank() > 5) {
            throw new IllegalArgumentException(this + ": input shape " + x.shape()
                    + " must be [N, C] or [N, C, H, W], or with a weight batch [B, N, C] or [B, N, C, H, W]");
        }
        boolean perNetwork = x.rank() == 3 || x.rank() == 5;
        int inputNetworks = perNetwork ? x.dim(0) : 0;
        int paramNetworks = affine ? weightBatch(params) : 0;
        int stateNetworks = state == null ? 0 : stateBatch(state);
        int networks = Math.max(inputNetworks, paramNetworks);
        if (affine && inputNetworks > 0 && paramNetworks > 0 && inputNetworks != paramNetworks) {
            throw new IllegalArgumentException(this + ": input shape " + x.shape() + " holds " + inputNetworks
                    + " networks but the parameters hold " + paramNetworks);
        }
        if (!affine && !perNetwork) {
            networks = stateNetworks;
        }
        if (state != null && stateNetworks != networks) {
            throw new IllegalArgumentException(this + ": state " + RUNNING_MEAN + " has shape " + state.get(RUNNING_MEAN).shape()
                    + " but the call runs " + (networks == 0 ? "one network" : networks + " networks") + " (input " + x.shape()
                    + "); create it with initState(engine, " + networks + ")");
        }
        if (networks == 1) {
            // A batch of one runs the unbatched code, so it equals the unbatched call exactly.
            Params p = paramNetworks == 1 ? WeightBatches.squeezeLeading(params) : params;
            Params s = state == null ? null : WeightBatches.squeezeLeading(state);
            Result r = run(p, perNetwork ? x.squeeze(0) : x, s, useRunning);
            return new Result(r.output().expandDims(0), r.runningMean() == null ? null : r.runningMean().expandDims(0),
                    r.runningVar() == null ? null : r.runningVar().expandDims(0));
        }
        // Batched inputs are brought to [B or 1, N, C, ...] with the channel on axis 2.
        Tensor xb = networks > 0 && !perNetwork ? x.expandDims(0) : x;
        int channelAxis = networks > 0 ? 2 : 1;
        int rank = xb.rank();
        if (xb.dim(channelAxis) != features) {
            throw new IllegalArgumentException(this + ": input shape " + x.shape() + " has " + xb.dim(channelAxis)
                    + " channels on axis " + (channelAxis - (networks > 0 && !perNetwork ? 1 : 0)) + ", the layer normalises "
                    + features);
        }
        int[] reduced = new int[rank - (networks > 0 ? 2 : 1)];
        long count = 1;
        for (int a = 0, i = 0; a < rank; a++) {
            if (a != channelAxis && !(networks > 0 && a == 0)) {
                reduced[i++] = a;
                count *= xb.dim(a);
            }
        }
        Tensor normalised;
        Tensor batchMean = null;
        Tensor batchVar = null;
        if (useRunning) {
            Tensor mean = WeightBatches.alongAxis(state.get(RUNNING_MEAN), rank, channelAxis);
            Tensor var = WeightBatches.alongAxis(state.get(RUNNING_VAR), rank, channelAxis);
            normalised = xb.sub(mean).div(var.add(eps).sqrt());
        } else {
            if (count < 2) {
                throw new IllegalArgumentException(this + ": batch statistics need more than one value per channel, input shape "
                        + x.shape() + " gives " + count);
            }
            batchMean = xb.mean(reduced, true);
            Tensor centred = xb.sub(batchMean);
            batchVar = centred.square().mean(reduced, true);
            normalised = centred.div(batchVar.add(eps).sqrt());
        }
        Tensor y = normalised;
        if (affine) {
            y = y.mul(WeightBatches.alongAxis(params.get("weight"), rank, channelAxis))
                    .add(WeightBatches.alongAxis(params.get("bias"), rank, channelAxis));
        }
        if (networks > 1 && y.dim(0) != networks) {
            y = y.broadcastTo(y.shape().with(0, networks));
        }
        if (state == null || useRunning) {
            return new Result(y, null, null);
        }
        // Running statistics are state, not parameters: no gradient flows into them.
        Shape vector = networks > 0 ? Shape.of(xb.dim(0), features) : Shape.of(features);
        Tensor mean = batchMean.stopGradient().reshape(vector);
        Tensor unbiased = batchVar.stopGradient().reshape(vector).mul((double) count / (count - 1));
        Tensor runningMean = state.get(RUNNING_MEAN).mul(1 - momentum).add(mean.mul(momentum));
        Tensor runningVar = state.get(RUNNING_VAR).mul(1 - momentum).add(unbiased.mul(momentum));
        return new Result(y, runningMean, runningVar);
    }

    private int stateBatch(Params state) {
        Tensor mean = state.get(RUNNING_MEAN);
        Tensor var = state.get(RUNNING_VAR);
        for (Tensor t : List.of(mean, var)) {
            boolean unbatched = t.shape().equals(Shape.of(features));
            boolean batched = t.rank() == 2 && t.dim(1) == features;
            if (!unbatched && !batched || !t.shape().equals(mean.shape())) {
                throw new IllegalArgumentException(this + ": state shapes " + mean.shape() + " and " + var.shape()
                        + " must both be [" + features + "] or [B, " + features + "]");
            }
        }
        return mean.rank() == 2 ? mean.dim(0) : 0;
    }

    @Override
    public String toString() {
        return "BatchNorm(" + features + ", eps " + eps + ", momentum " + momentum + (affine ? "" : ", no affine") + ")";
    }
}
