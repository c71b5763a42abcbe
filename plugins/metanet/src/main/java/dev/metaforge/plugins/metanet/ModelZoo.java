package dev.metaforge.plugins.metanet;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.checkpoint.Safetensors;
import dev.metaforge.api.checkpoint.SafetensorsFile;
import dev.metaforge.api.checkpoint.TensorData;
import dev.metaforge.api.data.LabelledDataset;
import dev.metaforge.api.data.LabelledDatasetSpec;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.NoGrad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.spi.Shape;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A trained model zoo ({@link ZooSpec}): the weights of every network as one weight batch
 * ({@code [networks, ...]} per parameter, held outside any scope), each network's test accuracy and
 * hyperparameters, and the task. Built once and cached as safetensors under a name derived from the
 * spec's JSON ({@code zoo-<sha256 prefix>.safetensors}), so any spec with the same zoo reuses it.
 */
@SuppressWarnings("try") // NoGrad is opened for its effect
final class ModelZoo {
    private static final double MOMENTUM = 0.9;

    final ZooSpec spec;
    final Module model;
    final ZooTask task;
    final Params params;
    final double[] accuracy;
    final double[] learningRate;
    final double[] steps;
    final double[] initScale;
    final double[] labelNoise;
    final Path file;
    final boolean fromCache;

    private ModelZoo(ZooSpec spec, Module model, ZooTask task, Params params, double[] accuracy, double[] learningRate,
                     double[] steps, double[] initScale, double[] labelNoise, Path file, boolean fromCache) {
        this.spec = spec;
        this.model = model;
        this.task = task;
        this.params = params;
        this.accuracy = accuracy;
        this.learningRate = learningRate;
        this.steps = steps;
        this.initScale = initScale;
        this.labelNoise = labelNoise;
        this.file = file;
        this.fromCache = fromCache;
    }

    int size() {
        return accuracy.length;
    }

    /** The networks at {@code rows} as a weight batch owned by the current scope. */
    Params select(int[] rows) {
        long[] r = new long[rows.length];
        for (int i = 0; i < rows.length; i++) {
            r[i] = rows[i];
        }
        Tensor index = params.values().iterator().next().engine().indices(r, r.length);
        return params.map(t -> t.gather(index, 0));
    }

    /**
     * Loads the zoo from its cache file, or trains it and writes the file. Datasets are read and checked
     * (and the model tried on one example) before anything is trained or written. Progress goes to {@code log}.
     */
    static ModelZoo load(ZooSpec spec, BuildContext context, PrintWriter log) {
        requireNonNull(spec, "spec is null");
        Engine engine = context.engine();
        Module model = spec.model().build();
        int classes = outputWidth(model);
        ZooTask task;
        if (spec.data() == null) {
            List<ParamSpec> declared = model.parameters();
            int inputs = declared.get(0).shape().dim(declared.get(0).axisOf(dev.metaforge.api.nn.Axis.IN));
            task = SyntheticClassification.generate(inputs, classes, spec.trainPoints(), spec.testPoints(), spec.seed());
        } else {
            LabelledDataset trainSet = dataset(spec.data().train(), "train", context);
            LabelledDataset testSet = dataset(spec.data().test(), "test", context);
            task = DatasetTask.of(spec.data(), trainSet, testSet, spec.trainPoints(), spec.testPoints(), classes);
            checkModelReads(model, (DatasetTask) task, engine);
        }
        // The cache's location is not part of what the zoo is: the same zoo read from anywhere hits the same file.
        // The data's fingerprint is: a replaced dataset file misses the cache.
        String json = context.specs().write(new ZooSpec(spec.model(), spec.networks(), spec.steps(), spec.learningRate(), spec.initScale(),
                spec.labelNoise(), spec.trainPoints(), spec.testPoints(), spec.batch(), spec.seed(), "-", spec.data()));
        String key = spec.data() == null ? json : json + "\n" + task.fingerprint();
        Path file = context.baseDir().resolve(spec.cache()).resolve("zoo-" + sha256(key).substring(0, 16) + ".safetensors").normalize();
        if (Files.isRegularFile(file)) {
            try {
                return read(spec, model, task, file, engine);
            } catch (IOException | RuntimeException e) {
                log.println("zoo: cannot read " + file + " (" + e.getMessage() + "); training it again");
            }
        }
        if (!engine.kernels().computesValues()) {
            // The pre-flight's shape-only pass: training would write a cache of meaningless values that the
            // real run then reads. Untrained members with placeholder accuracies have the right shapes.
            return untrained(spec, model, task, engine, file);
        }
        ModelZoo zoo = train(spec, model, task, engine, file, log);
        try {
            Files.createDirectories(file.getParent());
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put("spec", json);
            metadata.put("trainedOn", engine.backend().toString());
            try (Scope s = Scope.open()) {
                zoo.params.asMap().forEach((n, t) -> tensors.put("params/" + n, t));
                tensors.put("accuracy", vector(engine, zoo.accuracy));
                tensors.put("learningRate", vector(engine, zoo.learningRate));
                tensors.put("steps", vector(engine, zoo.steps));
                tensors.put("initScale", vector(engine, zoo.initScale));
                tensors.put("labelNoise", vector(engine, zoo.labelNoise));
                Safetensors.writeTensors(file, tensors, metadata);
            }
            log.println("zoo: wrote " + file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the model zoo to " + file + ": " + e.getMessage(), e);
        }
        return zoo;
    }

    /** The dataset of {@code zoo.data.FIELD}; errors say which field. */
    private static LabelledDataset dataset(LabelledDatasetSpec spec, String field, BuildContext context) {
        try {
            return spec.build(context);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("zoo.data." + field + ": " + e.getMessage(), e);
        } catch (UncheckedIOException e) {
            throw new UncheckedIOException("zoo.data." + field + ": " + e.getMessage(), e.getCause());
        }
    }

    /** One unbatched forward pass on one training example, so a model that cannot read the data fails before training. */
    private static void checkModelReads(Module model, DatasetTask task, Engine engine) {
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.enter()) {
            Tensor out = model.apply(model.init(engine, RandomStream.of(0)), task.trainInputs(engine, new int[] {0, 1}));
            if (out.rank() != 2 || out.dim(1) != task.classes()) {
                throw new IllegalArgumentException("gives output " + out.shape() + " for 2 examples, not [2, " + task.classes() + "]");
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("zoo: the model (" + model.kind() + ") cannot classify examples laid out as "
                    + task.layout() + " (zoo.data.inputShape): " + e.getMessage(), e);
        }
    }

    private static ModelZoo read(ZooSpec spec, Module model, ZooTask task, Path file, Engine engine) throws IOException {
        SafetensorsFile f = Safetensors.read(file);
        Map<String, Tensor> p = new LinkedHashMap<>();
        try (Scope s = Scope.open()) {
            for (ParamSpec ps : model.parameters()) {
                TensorData d = f.tensor("params/" + ps.name());
                p.put(ps.name(), s.escape(engine.tensor(d.toDoubles(), d.shape(), engine.defaultDType())));
            }
        }
        return new ModelZoo(spec, model, task, Params.of(p), f.tensor("accuracy").toDoubles(), f.tensor("learningRate").toDoubles(),
                f.tensor("steps").toDoubles(), f.tensor("initScale").toDoubles(), f.tensor("labelNoise").toDoubles(), file, true);
    }

    /** The zoo's shapes without training: initial weights, accuracies 0, nothing written. */
    private static ModelZoo untrained(ZooSpec spec, Module model, ZooTask task, Engine engine, Path file) {
        int b = spec.networks();
        Map<String, Tensor> stacked = new LinkedHashMap<>();
        try (Scope s = Scope.open()) {
            Params one = model.init(engine, RandomStream.of(spec.seed()));
            for (ParamSpec ps : model.parameters()) {
                Tensor t = one.get(ps.name());
                int[] dims = new int[t.rank() + 1];
                dims[0] = b;
                System.arraycopy(t.shape().dims(), 0, dims, 1, t.rank());
                stacked.put(ps.name(), s.escape(t.expandDims(0).broadcastTo(Shape.of(dims)).mul(1.0)));
            }
        }
        double[] zeros = new double[b];
        return new ModelZoo(spec, model, task, Params.of(stacked), zeros, zeros.clone(), zeros.clone(), zeros.clone(), zeros.clone(),
                file, false);
    }

    private static ModelZoo train(ZooSpec spec, Module model, ZooTask task, Engine engine, Path file, PrintWriter log) {
        int b = spec.networks();
        SplittableRandom r = new SplittableRandom(spec.seed() * 7919 + 17);
        double[] lr = new double[b];
        double[] steps = new double[b];
        double[] scale = new double[b];
        double[] noise = new double[b];
        long[][] labels = new long[b][];
        int maxSteps = 0;
        for (int i = 0; i < b; i++) {
            lr[i] = logUniform(r, spec.learningRate().get(0), spec.learningRate().get(1));
            steps[i] = Math.round(logUniform(r, spec.steps().get(0), spec.steps().get(1)));
            scale[i] = spec.initScale().get(0) + (spec.initScale().get(1) - spec.initScale().get(0)) * r.nextDouble();
            noise[i] = spec.labelNoise() * r.nextDouble();
            maxSteps = Math.max(maxSteps, (int) steps[i]);
            labels[i] = task.yTrain().clone();
            for (int j = 0; j < labels[i].length; j++) {
                if (r.nextDouble() < noise[i]) {
                    labels[i][j] = r.nextInt(task.classes());
                }
            }
        }
        log.println("zoo: training " + b + " networks (" + model.kind() + ", " + model.parameterCount() + " parameters each) for up to "
                + maxSteps + " steps as one weight batch; cache " + file);
        long start = System.nanoTime();
        Params params;
        Params velocity;
        try (Scope s = Scope.open()) {
            List<Params> members = new ArrayList<>();
            RandomStream init = RandomStream.of(spec.seed());
            for (int i = 0; i < b; i++) {
                double f = scale[i];
                members.add(model.init(engine, init.split()).map(t -> t.mul(f)));
            }
            Map<String, Tensor> stacked = new LinkedHashMap<>();
            for (ParamSpec ps : model.parameters()) {
                stacked.put(ps.name(), Tensor.stack(members.stream().map(m -> m.get(ps.name())).toList(), 0));
            }
            params = s.escape(Params.of(stacked));
            velocity = s.escape(params.map(t -> t.mul(0.0)));
        }
        int n = Math.min(spec.batch(), task.trainPoints());
        int k = task.classes();
        for (int step = 0; step < maxSteps; step++) {
            double[] rate = new double[b];
            for (int i = 0; i < b; i++) {
                rate[i] = step < steps[i] ? lr[i] : 0;
            }
            int[] rows = new int[n];
            for (int j = 0; j < n; j++) {
                rows[j] = r.nextInt(task.trainPoints());
            }
            double[] target = new double[b * n * k];
            for (int i = 0; i < b; i++) {
                for (int j = 0; j < n; j++) {
                    target[(i * n + j) * k + (int) labels[i][rows[j]]] = 1;
                }
            }
            Params nextParams;
            Params nextVelocity;
            try (Scope s = Scope.open()) {
                Tensor x = task.trainInputs(engine, rows);
                Tensor y = engine.tensor(target, Shape.of(b, n, k), engine.defaultDType());
                Params tracked = params.requiringGrad();
                Tensor loss = model.apply(tracked, x).softmaxCrossEntropy(y, -1).mean(1, false).sum();
                Params g = Grad.of(loss).wrt(tracked);
                Tensor rates = engine.tensor(rate, Shape.of(b), engine.defaultDType());
                Params vel = velocity.zip(g, (v, gi) -> v.mul(MOMENTUM).add(gi.maximum(-1.0).minimum(1.0)));
                Params vv = vel;
                nextParams = params.mapNamed((name, t) -> t.sub(vv.get(name).mul(broadcastable(rates, t.rank()))));
                nextVelocity = vel;
                s.escape(nextParams);
                s.escape(nextVelocity);
            }
            params.close();
            velocity.close();
            params = nextParams;
            velocity = nextVelocity;
            if ((step + 1) % 250 == 0 || step + 1 == maxSteps) {
                log.printf("zoo: step %d/%d (%.0f s)%n", step + 1, maxSteps, (System.nanoTime() - start) / 1e9);
                log.flush();
            }
        }
        velocity.close();
        double[] accuracy;
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.enter()) {
            accuracy = task.accuracy(model, params, engine);
            for (Tensor t : params.values()) {
                for (double v : t.toDoubles()) {
                    if (!Double.isFinite(v)) {
                        throw new IllegalStateException("a zoo network diverged (non-finite weights); lower the learningRate range " + spec.learningRate());
                    }
                }
            }
        }
        double mean = 0;
        double min = 1;
        double max = 0;
        for (double a : accuracy) {
            mean += a / b;
            min = Math.min(min, a);
            max = Math.max(max, a);
        }
        log.printf("zoo: trained in %.0f s; test accuracy mean %.3f, min %.3f, max %.3f%n", (System.nanoTime() - start) / 1e9, mean, min, max);
        return new ModelZoo(spec, model, task, params, accuracy, lr, steps, scale, noise, file, false);
    }

    private static Tensor broadcastable(Tensor perNetwork, int rank) {
        int[] dims = new int[rank];
        java.util.Arrays.fill(dims, 1);
        dims[0] = perNetwork.dim(0);
        return perNetwork.reshape(dims);
    }

    /** Float64 whatever the engine's dtype: accuracies read back from the cache equal the ones just measured, so a run
     *  that trains the zoo and a later run that reads it standardise the same targets and train the same metanetwork. */
    private static Tensor vector(Engine engine, double[] v) {
        return engine.tensor(v, Shape.of(v.length), dev.metaforge.spi.DType.FLOAT64);
    }

    private static int outputWidth(Module model) {
        dev.metaforge.api.nn.ModuleStructure s = model.structure();
        return s.group(s.output()).size();
    }

    private static double logUniform(SplittableRandom r, double lo, double hi) {
        return Math.exp(Math.log(lo) + (Math.log(hi) - Math.log(lo)) * r.nextDouble());
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
