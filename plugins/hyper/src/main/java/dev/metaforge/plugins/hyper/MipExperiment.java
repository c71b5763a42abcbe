package dev.metaforge.plugins.hyper;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.hyper.HyperNetwork;
import dev.metaforge.api.hyper.HyperTarget;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.optim.Adam;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.train.TrainingLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The MIP claim on the loss-weighting toy (Ortiz, Guttag, Dalca, ICLR 2024): with γ ~ U[0, 1],
 * x ~ U[−π, π], a 1-32-32-1 ReLU target, a d-64-64-P ReLU hypernetwork, Adam 1e-3 and 16 γ × 64
 * points per step, MIP (encoded input, θ = θ0 + H) reaches an evaluation MSE of 0.01 in at most
 * half the steps the default parametrization (raw γ, θ = H(γ), the same Kaiming fan-out init)
 * needs. The evaluation MSE is the distance to the optimal regressor on
 * γ ∈ linspace(0, 1, 11) × x ∈ linspace(−π, π, 128) ({@link LossWeightingTask}).
 *
 * <pre>{@code
 * MipExperiment.Result r = MipExperiment.run(engine, Parametrization.MIP, 0, MipExperiment.Settings.paper());
 * }</pre>
 *
 * {@link #main} runs both parametrizations for seeds 0, 1, 2 on the backend of the selection rule.
 */
public final class MipExperiment {
    /** Which hypernetwork parametrization. */
    public enum Parametrization {
        /** Constant-norm encoding and θ = θ0 + H(E(γ)). */
        MIP,
        /** Raw γ in, θ = H(γ) out, the same Kaiming fan-out init and zero biases. */
        DEFAULT
    }

    /**
     * @param contexts       γ values per step (one weight batch)
     * @param points         x values per γ
     * @param learningRate   Adam's learning rate
     * @param threshold      the evaluation MSE to reach
     * @param maxSteps       give up after this many steps
     * @param evaluateEvery  evaluate after every this many steps (the resolution of the step count)
     */
    public record Settings(int contexts, int points, double learningRate, double threshold, int maxSteps, int evaluateEvery) {
        public Settings {
            if (contexts <= 0 || points <= 0 || maxSteps <= 0 || evaluateEvery <= 0 || !(learningRate > 0) || !(threshold > 0)) {
                throw new IllegalArgumentException("MIP experiment settings must be positive: " + contexts + ", " + points + ", "
                        + learningRate + ", " + threshold + ", " + maxSteps + ", " + evaluateEvery);
            }
        }

        /** The setting: 16 γ × 64 points, Adam 1e-3, MSE 0.01, evaluated every 5 steps, at most 5000 steps. */
        public static Settings paper() {
            return new Settings(16, 64, 1e-3, 0.01, 5_000, 5);
        }
    }

    /**
     * @param stepsToThreshold steps until the evaluation MSE first reached the threshold, or -1 if it never did
     * @param stepsRun         steps actually run
     * @param finalMse         the evaluation MSE when the run stopped
     * @param seconds          wall time of the run
     */
    public record Result(Parametrization parametrization, long seed, long stepsToThreshold, long stepsRun, double finalMse,
                         double seconds) {
        public boolean reached() {
            return stepsToThreshold >= 0;
        }
    }

    private MipExperiment() {
    }

    /** The objective of one parametrization: the toy's target and hypernetwork with {@code settings}' batch. */
    public static HyperObjective objective(Engine engine, Parametrization parametrization, Settings settings) {
        requireNonNull(engine, "engine is null");
        requireNonNull(parametrization, "parametrization is null");
        requireNonNull(settings, "settings is null");
        HyperTarget target = HyperTarget.of(Mlp.of(List.of(1, 32, 32, 1), Activation.RELU));
        List<Integer> hidden = List.of(64, 64);
        HyperNetwork hyper = parametrization == Parametrization.MIP
                ? MipHyperNetwork.standard(target.generated(), 1, hidden, Activation.RELU)
                : new HmlpHyperNetwork(target.generated(), 1, hidden, Activation.RELU,
                        Initializer.kaimingNormal(Initializer.FanMode.FAN_OUT));
        return new HyperObjective(engine, target, hyper, LossWeightingTask.standard(), settings.contexts(), settings.points(), null);
    }

    /** Trains until the evaluation MSE reaches the threshold or {@code maxSteps} pass. */
    public static Result run(Engine engine, Parametrization parametrization, long seed, Settings settings) {
        HyperObjective objective = objective(engine, parametrization, settings);
        long started = System.nanoTime();
        long reachedAt = -1;
        double mse = Double.NaN;
        try (TrainingLoop loop = TrainingLoop.start(objective, Adam.adam(settings.learningRate()), seed)) {
            while (loop.completedSteps() < settings.maxSteps()) {
                loop.step();
                if (loop.completedSteps() % settings.evaluateEvery() == 0) {
                    mse = loop.evaluate().get("mse");
                    if (mse <= settings.threshold()) {
                        reachedAt = loop.completedSteps();
                        break;
                    }
                }
            }
            return new Result(parametrization, seed, reachedAt, loop.completedSteps(), mse, (System.nanoTime() - started) / 1e9);
        }
    }

    /** The median of {@code stepsToThreshold}, counting a run that never reached it as {@code maxSteps + 1}. */
    public static long medianSteps(List<Result> results, Settings settings) {
        List<Long> steps = new ArrayList<>();
        for (Result r : results) {
            steps.add(r.reached() ? r.stepsToThreshold() : settings.maxSteps() + 1L);
        }
        steps.sort(Long::compare);
        return steps.get(steps.size() / 2);
    }

    /** Runs MIP and the default for seeds 0, 1, 2 (args: [maxSteps]) and prints steps to MSE 0.01. */
    public static void main(String[] args) {
        Settings paper = Settings.paper();
        Settings settings = args.length > 0
                ? new Settings(paper.contexts(), paper.points(), paper.learningRate(), paper.threshold(), Integer.parseInt(args[0]),
                        paper.evaluateEvery())
                : paper;
        try (Engine engine = Engine.create()) {
            System.out.println("MIP loss-weighting experiment on " + engine);
            List<Result> mip = new ArrayList<>();
            List<Result> base = new ArrayList<>();
            for (long seed = 0; seed < 3; seed++) {
                for (Parametrization p : Parametrization.values()) {
                    Result r = run(engine, p, seed, settings);
                    (p == Parametrization.MIP ? mip : base).add(r);
                    System.out.println(describe(r));
                }
            }
            System.out.printf(Locale.ROOT, "median steps to MSE %.3g: MIP %d, default %d%n", settings.threshold(),
                    medianSteps(mip, settings), medianSteps(base, settings));
        }
    }

    /** One line per run. */
    public static String describe(Result r) {
        return String.format(Locale.ROOT, "%-7s seed %d: steps to threshold %s, steps run %d, final eval MSE %.5f, %.1f s",
                r.parametrization(), r.seed(), r.reached() ? Long.toString(r.stepsToThreshold()) : "not reached", r.stepsRun(),
                r.finalMse(), r.seconds());
    }
}
