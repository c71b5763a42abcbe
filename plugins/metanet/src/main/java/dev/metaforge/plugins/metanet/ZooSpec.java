package dev.metaforge.plugins.metanet;

import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.Limits;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.nn.ModuleSpec;
import java.util.List;

/**
 * A model zoo: {@code networks} copies of one architecture trained on a classification task with
 * varied hyperparameters, all at once as one weight batch, and cached on disk. The task is synthetic
 * ({@link SyntheticClassification}) unless {@code data} names labelled datasets ({@link ZooData}), e.g.
 * Fashion-MNIST for a zoo of small CNNs; then {@code trainPoints} and {@code testPoints} are how many
 * of the first examples of each set are used. Each network draws its SGD-with-momentum learning rate (log-uniform), its number of
 * steps (log-uniform), an initialisation scale (uniform) and a label-noise fraction (uniform).
 *
 * <pre>{@code
 * {"model": {"type": "mlp", "sizes": [8, 32, 32, 4]}, "networks": 256, "steps": [10, 1500],
 *  "learningRate": [0.003, 0.3], "initScale": [0.5, 2.0], "labelNoise": 0.3,
 *  "trainPoints": 2048, "testPoints": 2048, "batch": 128, "seed": 0, "cache": "zoo-cache"}
 * }</pre>
 *
 * <p>BatchNorm layers run in their plain form throughout (statistics of the current batch, no running
 * state), for training and for measuring accuracy (test examples in chunks of 500),
 * so a zoo member is its parameters alone, which is what a metanetwork reads.
 *
 * @param model        the architecture; maps [N, ...example] to [N, k] logits and accepts a weight batch (mlp, or a
 *                     sequential of linear, conv2d, batchnorm, pooling, flatten and activation layers)
 * @param networks     zoo size (default 256)
 * @param steps        [min, max] training steps per network (default [10, 1500])
 * @param learningRate [min, max] learning rate (default [0.003, 0.3])
 * @param initScale    [min, max] factor on the initial weights (default [0.5, 2.0])
 * @param labelNoise   largest fraction of training labels replaced by random ones (default 0.3)
 * @param trainPoints  training points of the task (default 2048); with {@code data}, the first this many training examples
 * @param testPoints   test points, on which accuracy is measured (default 2048); with {@code data}, the first this many test examples
 * @param batch        minibatch size (default 128)
 * @param seed         the task and the zoo follow from it (default 0)
 * @param cache        directory of the cache file, relative to the spec file (default "zoo-cache")
 * @param data         labelled datasets to train and measure on; omitted (null): the synthetic task
 */
public record ZooSpec(
        ModuleSpec model,
        @Range(min = 1, max = Limits.MAX_COUNT, what = "networks in the zoo") int networks,
        @Range(min = 0, max = Integer.MAX_VALUE, what = "training steps") List<Integer> steps,
        @Range(min = 0, max = 1000, minExclusive = true, what = "learning rate") List<Double> learningRate,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "initialisation scale") List<Double> initScale,
        @Range(min = 0, max = 1, what = "label-noise fraction") double labelNoise,
        @Range(min = 1, max = Limits.MAX_COUNT, what = "training points") int trainPoints,
        @Range(min = 1, max = Limits.MAX_COUNT, what = "test points") int testPoints,
        @Range(min = 1, max = Limits.MAX_BATCH, what = "batch size") int batch,
        @Range(min = Long.MIN_VALUE, max = Long.MAX_VALUE, what = "seed (an integer)") long seed,
        String cache,
        @JsonInclude(JsonInclude.Include.NON_NULL) ZooData data) {
    public ZooSpec {
        Checks.required(model, "model", "the architecture, e.g. {\"type\": \"mlp\", \"sizes\": [8, 32, 32, 4]}");
        Checks.positive(networks, "networks");
        steps = range(steps, "steps");
        learningRate = range(learningRate, "learningRate");
        initScale = range(initScale, "initScale");
        if (steps.get(0) < 1) {
            throw new IllegalArgumentException("field 'steps' must start at 1 or more, got " + steps);
        }
        if (!(labelNoise >= 0 && labelNoise < 1)) {
            throw new IllegalArgumentException("field 'labelNoise' must be in [0, 1), got " + labelNoise);
        }
        Checks.positive(trainPoints, "trainPoints");
        Checks.positive(testPoints, "testPoints");
        Checks.positive(batch, "batch");
        Checks.required(cache, "cache", "a directory for the cached zoo");
    }

    @JsonCreator
    static ZooSpec fromJson(@JsonProperty("model") ModuleSpec model, @JsonProperty("networks") Integer networks,
                            @JsonProperty("steps") List<Integer> steps, @JsonProperty("learningRate") List<Double> learningRate,
                            @JsonProperty("initScale") List<Double> initScale, @JsonProperty("labelNoise") Double labelNoise,
                            @JsonProperty("trainPoints") Integer trainPoints, @JsonProperty("testPoints") Integer testPoints,
                            @JsonProperty("batch") Integer batch, @JsonProperty("seed") Long seed, @JsonProperty("cache") String cache,
                            @JsonProperty("data") ZooData data) {
        return new ZooSpec(model, Checks.orDefault(networks, 256), Checks.orDefault(steps, List.of(10, 1500)),
                Checks.orDefault(learningRate, List.of(0.003, 0.3)), Checks.orDefault(initScale, List.of(0.5, 2.0)),
                Checks.orDefault(labelNoise, 0.3), Checks.orDefault(trainPoints, 2048), Checks.orDefault(testPoints, 2048),
                Checks.orDefault(batch, 128), Checks.orDefault(seed, 0L), Checks.orDefault(cache, "zoo-cache"), data);
    }

    private static <T extends Number> List<T> range(List<T> r, String field) {
        if (r == null || r.size() != 2 || r.get(0) == null || r.get(1) == null || !(r.get(0).doubleValue() > 0)
                || r.get(1).doubleValue() < r.get(0).doubleValue()) {
            throw new IllegalArgumentException("field '" + field + "' must be [min, max] with 0 < min <= max, got " + r);
        }
        return List.copyOf(r);
    }
}
