package dev.metaforge.spark;

import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.Objective;
import dev.metaforge.api.train.ShardedObjective;
import dev.metaforge.api.train.TrainSpec;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.Backend;
import dev.metaforge.spi.BackendConfig;
import dev.metaforge.spi.BackendDiscovery;
import dev.metaforge.spi.Device;
import java.nio.file.Path;
import java.util.Map;

/**
 * One executor thread's share of a run: its own backend (the selection rule, or the name the
 * driver passed), an engine in the spec's dtype, and the objective rebuilt from the spec, exactly
 * as the driver built its own.
 */
final class ExecutorWorker implements AutoCloseable {
    private final Backend backend;
    private final Engine engine;
    private final ShardedObjective objective;
    private final long seed;

    private ExecutorWorker(Backend backend, Engine engine, ShardedObjective objective, long seed) {
        this.backend = backend;
        this.engine = engine;
        this.objective = objective;
        this.seed = seed;
    }

    static ExecutorWorker open(RunBlueprint blueprint) {
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        if (loader == null) {
            loader = ExecutorWorker.class.getClassLoader();
        }
        Backend backend = openBackend(blueprint.backendName(), blueprint.backendThreads(), loader);
        try {
            SpecRegistry specs = SpecRegistry.load(loader);
            TrainSpec spec = specs.read(blueprint.specJson(), TrainSpec.class, "the spec of run " + blueprint.runId());
            Engine engine = Engine.of(backend, spec.engineDType());
            Objective built = spec.experiment().build(new BuildContext(engine, specs, Path.of(blueprint.baseDir()), spec.seed()));
            if (!(built instanceof ShardedObjective sharded)) {
                throw new IllegalStateException("the experiment built " + built.getClass().getName()
                        + " on this executor, which is not a ShardedObjective; the driver built a sharded one: are the"
                        + " executors running another Metaforge version?");
            }
            return new ExecutorWorker(backend, engine, sharded, spec.seed());
        } catch (RuntimeException e) {
            backend.close();
            throw e;
        }
    }

    /** The named backend, else the selection rule of this JVM; "reference" is the pure-Java oracle, accepted by name. */
    static Backend openBackend(String name, int threads, ClassLoader loader) {
        String wanted = name != null ? name : BackendDiscovery.explicitName(System.getenv(), System.getProperties());
        if (wanted != null && ReferenceBackend.NAME.equalsIgnoreCase(wanted.trim())) {
            return new ReferenceBackend();
        }
        BackendConfig config = threads > 0 ? new BackendConfig(Device.CPU, Map.of("threads", Integer.toString(threads)))
                : BackendConfig.defaults();
        return BackendDiscovery.scan(loader).select(wanted).chosen().create(config);
    }

    Backend backend() {
        return backend;
    }

    Engine engine() {
        return engine;
    }

    ShardedObjective objective() {
        return objective;
    }

    long seed() {
        return seed;
    }

    @Override
    public void close() {
        backend.close();
    }
}
