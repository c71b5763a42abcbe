package dev.metaforge.plugins.core;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;

/**
 * The data of a {@code regression} experiment:
 * {@code {"function": "sin", "xMin": -5, "xMax": 5, "batch": 64, "evalPoints": 256}}. Each training
 * step draws {@code batch} inputs uniformly from [xMin, xMax); evaluation uses {@code evalPoints}
 * evenly spaced inputs from xMin to xMax inclusive.
 *
 * @param function   sin, cos, tanh, square, cube, abs, gaussian (exp(-x^2)) or sinc (sin(x)/x); required
 * @param xMin       default -5
 * @param xMax       default 5, > xMin
 * @param batch      training examples per step, default 64
 * @param evalPoints evaluation grid size, default 256 (at least 2)
 */
public record RegressionTask(
        String function,
        @Range(min = -Limits.MAX_MAGNITUDE, max = Limits.MAX_MAGNITUDE, what = "input range bound") double xMin,
        @Range(min = -Limits.MAX_MAGNITUDE, max = Limits.MAX_MAGNITUDE, what = "input range bound") double xMax,
        @Range(min = 1, max = Limits.MAX_BATCH, what = "training examples per step") int batch,
        @Range(min = 2, max = Limits.MAX_BATCH, what = "evaluation points") int evalPoints) {
    public RegressionTask {
        function = TargetFunction.parse(Fields.required(function, "function", "one of " + TargetFunction.names())).jsonName();
        if (!Double.isFinite(xMin) || !Double.isFinite(xMax) || !(xMin < xMax)) {
            throw new IllegalArgumentException("fields 'xMin' and 'xMax' must be finite with xMin < xMax, got " + xMin + " and " + xMax);
        }
        Fields.positive(batch, "batch");
        if (evalPoints < 2) {
            throw new IllegalArgumentException("field 'evalPoints' must be >= 2, got " + evalPoints);
        }
    }

    @JsonCreator
    static RegressionTask fromJson(@JsonProperty("function") String function, @JsonProperty("xMin") Double xMin,
                                   @JsonProperty("xMax") Double xMax, @JsonProperty("batch") Integer batch,
                                   @JsonProperty("evalPoints") Integer evalPoints) {
        return new RegressionTask(function, Fields.orDefault(xMin, -5.0), Fields.orDefault(xMax, 5.0),
                Fields.orDefault(batch, 64), Fields.orDefault(evalPoints, 256));
    }

    public TargetFunction target() {
        return TargetFunction.parse(function);
    }

    /** The evaluation inputs: evalPoints evenly spaced from xMin to xMax inclusive. */
    public double[] grid() {
        double[] x = new double[evalPoints];
        for (int i = 0; i < evalPoints; i++) {
            x[i] = xMin + (xMax - xMin) * i / (evalPoints - 1);
        }
        return x;
    }
}
