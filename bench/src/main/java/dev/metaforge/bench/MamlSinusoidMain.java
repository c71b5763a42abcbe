package dev.metaforge.bench;

import dev.metaforge.api.meta.MetaLearner;
import dev.metaforge.api.loss.TaskLoss;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.plugins.meta.Maml;
import dev.metaforge.plugins.meta.MamlSinusoid;
import dev.metaforge.plugins.meta.MetaObjective;
import dev.metaforge.plugins.meta.Reptile;
import dev.metaforge.spi.Backend;
import dev.metaforge.spi.DType;
import java.util.List;
import java.util.Locale;

/**
 * Reproduces MAML on sinusoid regression (Finn et al. 2017) on a chosen backend and prints the
 * post-adaptation MSE on 1,000 held-out tasks after 1 and 10 inner steps, the wall time and the
 * meta-iteration rate. Usage:
 * <pre>
 * java -cp ... dev.metaforge.bench.MamlSinusoidMain [--backend djl|reference] [--learner maml|fomaml|reptile]
 *      [--iterations 10000] [--seed 0] [--eval-tasks 1000] [--rate-only]
 * </pre>
 * {@code --rate-only} measures meta-iterations per second (200 warm-up, then {@code --iterations}).
 */
public final class MamlSinusoidMain {
    private MamlSinusoidMain() {
    }

    public static void main(String[] args) {
        String backend = null;
        String learnerName = "maml";
        long iterations = 10_000;
        long seed = 0;
        int evalTasks = 1000;
        boolean rateOnly = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--backend" -> backend = args[++i];
                case "--learner" -> learnerName = args[++i];
                case "--iterations" -> iterations = Long.parseLong(args[++i]);
                case "--seed" -> seed = Long.parseLong(args[++i]);
                case "--eval-tasks" -> evalTasks = Integer.parseInt(args[++i]);
                case "--rate-only" -> rateOnly = true;
                default -> throw new IllegalArgumentException("unknown argument '" + args[i]
                        + "'; known: --backend NAME, --learner maml|fomaml|reptile, --iterations N, --seed S, --eval-tasks N, --rate-only");
            }
        }
        // The pure-Java reference backend is not discoverable (it is the TCK's yardstick), so it is built here.
        Backend reference = "reference".equals(backend) ? new ReferenceBackend() : null;
        try (Engine engine = reference != null ? Engine.of(reference, DType.FLOAT32) : Engine.create(backend)) {
            System.out.printf(Locale.ROOT, "backend %s (%s), learner %s%n", engine.backend().name(), engine.backend().version(), learnerName);
            if (rateOnly) {
                for (boolean firstOrder : new boolean[] {false, true}) {
                    double rate = MamlSinusoid.metaIterationsPerSecond(engine, 200, (int) iterations, firstOrder);
                    System.out.printf(Locale.ROOT, "%s-order MAML: %.1f meta-iterations/s%n", firstOrder ? "first" : "second", rate);
                }
                return;
            }
            MetaLearner learner = switch (learnerName) {
                case "maml" -> new Maml(MamlSinusoid.network(), TaskLoss.MSE, 1, MamlSinusoid.INNER_LR, false);
                case "fomaml" -> new Maml(MamlSinusoid.network(), TaskLoss.MSE, 1, MamlSinusoid.INNER_LR, true);
                case "reptile" -> new Reptile(MamlSinusoid.network(), TaskLoss.MSE, 5, MamlSinusoid.INNER_LR);
                default -> throw new IllegalArgumentException("unknown learner '" + learnerName + "'; known: maml, fomaml, reptile");
            };
            MetaObjective objective = MamlSinusoid.objective(engine, learner, evalTasks, List.of(1, 10));
            long total = iterations;
            long start = System.nanoTime();
            MamlSinusoid.Result result = MamlSinusoid.run(objective, iterations, seed, (i, loss) -> {
                if ((i + 1) % 500 == 0) {
                    double seconds = (System.nanoTime() - start) / 1e9;
                    System.out.printf(Locale.ROOT, "iteration %d/%d  meta-loss %.4f  %.1f it/s%n", i + 1, total, loss, (i + 1) / seconds);
                }
            });
            System.out.printf(Locale.ROOT, "%d meta-iterations in %.1f s (%.1f it/s); held-out tasks: %d%n",
                    result.iterations(), result.seconds(), result.rate(), evalTasks);
            result.metrics().forEach((k, v) -> System.out.printf(Locale.ROOT, "%s = %.4f%n", k, v));
        } finally {
            if (reference != null) {
                reference.close();
            }
        }
    }
}
