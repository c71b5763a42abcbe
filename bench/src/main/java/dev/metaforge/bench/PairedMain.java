package dev.metaforge.bench;

import dev.metaforge.api.tensor.Engine;
import dev.metaforge.spi.Backend;
import dev.metaforge.spi.BackendConfig;
import dev.metaforge.spi.BackendDiscovery;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Device;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The JMH benchmarks' variants run side by side in one process, alternating in short slices
 * (A B C, B C A, ...), so each Metaforge/raw ratio comes from measurements taken within a
 * second of each other. On a shared, loaded machine this gives steadier ratios than JMH's
 * one-benchmark-after-the-other order; {@code bench/jmh.sh} remains the reference for
 * absolute figures. Prints per-variant medians and, per round, Metaforge time / raw time,
 * summarized as the median and the interquartile range over the rounds, both for wall time and
 * for this thread's CPU time (with one intra-op thread every kernel runs on this thread, so CPU
 * time leaves out the time the scheduler gives to other processes).
 *
 * <pre>
 * java -cp metaforge-bench.jar dev.metaforge.bench.PairedMain --group mlp [--backends djl,dl4j] [--rounds 20] [--slice-ms 300]
 * </pre>
 * Groups: {@code op} (a), {@code mlp} (b), {@code adam} (the optimizer part of (b) alone, see
 * {@link AdamStepBenchmark}), {@code matmul} (c, n = 1024), {@code donation} (Adam over the
 * hypernetwork's parameters: {@code Adam.stepInPlace}, the {@code metaforge*} variants, against
 * {@code Adam.step} with the old parameters closed, the {@code base*Step} variants), {@code gemm} (the
 * hypernetwork step's five products, {@code metaforgeGemm*}, and the whole step, {@code metaforgeStep*}, with the
 * backend option {@code gemm=onednn}, against the same with the backend's native GEMM, {@code gemm=libtorch} or
 * {@code gemm=openblas}, the {@code base*Libtorch} and {@code base*Openblas} variants).
 */
public final class PairedMain {
    /** One side of a comparison: the op and how to free its state. */
    private record Variant(String name, Supplier<Object> op, Runnable close) {
    }

    private PairedMain() {
    }

    public static void main(String[] args) {
        String group = null;
        List<String> backends = List.of("djl", "dl4j");
        int rounds = 20;
        int warmupRounds = 3;
        long sliceMillis = 300;
        for (int i = 0; i < args.length; i++) {
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(args[i] + " needs a value");
            }
            switch (args[i]) {
                case "--group" -> group = args[++i];
                case "--backends" -> backends = List.of(args[++i].split(","));
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--warmup-rounds" -> warmupRounds = Integer.parseInt(args[++i]);
                case "--slice-ms" -> sliceMillis = Long.parseLong(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument '" + args[i]
                        + "'; known: --group op|mlp|adam|matmul|donation|gemm, --backends djl,dl4j, --rounds N, --warmup-rounds N, --slice-ms MS");
            }
        }
        if (group == null) {
            throw new IllegalArgumentException("--group is required: op, mlp, adam, matmul, donation or gemm");
        }
        List<Variant> variants = variants(group, backends);
        try {
            run(group, variants, rounds, warmupRounds, sliceMillis);
        } finally {
            variants.forEach(v -> v.close().run());
        }
    }

    private static List<Variant> variants(String group, List<String> backends) {
        List<Variant> out = new ArrayList<>();
        boolean djl = backends.contains("djl");
        boolean dl4j = backends.contains("dl4j");
        switch (group) {
            case "op" -> {
                if (djl) {
                    var mf = new OpOverheadBenchmark.MetaforgeDjl();
                    mf.setup();
                    out.add(new Variant("metaforgeDjl", () -> OpOverheadBenchmark.metaforge(mf), mf::tearDown));
                    var raw = new OpOverheadBenchmark.RawDjl();
                    raw.setup();
                    out.add(new Variant("rawDjl", () -> OpOverheadBenchmark.raw(raw), raw::tearDown));
                }
                if (dl4j) {
                    var mf = new OpOverheadBenchmark.MetaforgeNd4j();
                    mf.setup();
                    out.add(new Variant("metaforgeNd4j", () -> OpOverheadBenchmark.metaforge(mf), mf::tearDown));
                    var raw = new OpOverheadBenchmark.RawNd4j();
                    raw.setup();
                    out.add(new Variant("rawNd4j", () -> OpOverheadBenchmark.raw(raw), raw::tearDown));
                    out.add(new Variant("rawNd4jInPlace", () -> OpOverheadBenchmark.rawInPlace(raw), () -> { }));
                }
            }
            case "mlp" -> {
                if (djl) {
                    var mf = new MlpStepBenchmark.MetaforgeDjl();
                    mf.setup();
                    out.add(new Variant("metaforgeDjl", mf.step::step, mf::tearDown));
                    var raw = new MlpStepBenchmark.RawDjl();
                    raw.setup();
                    out.add(new Variant("rawDjl", raw::stepWithDjlAdam, raw::tearDown));
                    var manual = new MlpStepBenchmark.RawDjl();
                    manual.setup();
                    out.add(new Variant("rawDjlManualAdam", manual::stepWithManualAdam, manual::tearDown));
                }
                if (dl4j) {
                    var mf = new MlpStepBenchmark.MetaforgeNd4j();
                    mf.setup();
                    out.add(new Variant("metaforgeNd4j", mf.step::step, mf::tearDown));
                    var raw = new MlpStepBenchmark.RawNd4j();
                    raw.setup();
                    out.add(new Variant("rawNd4j", raw::step, raw::tearDown));
                }
            }
            case "adam" -> {
                if (djl) {
                    var mf = new AdamStepBenchmark.MetaforgeDjl();
                    mf.setup();
                    out.add(new Variant("metaforgeDjl", mf::step, mf::tearDown));
                    var raw = new AdamStepBenchmark.RawDjl();
                    raw.setup();
                    out.add(new Variant("rawDjl", raw::step, raw::tearDown));
                }
                if (dl4j) {
                    var mf = new AdamStepBenchmark.MetaforgeNd4j();
                    mf.setup();
                    out.add(new Variant("metaforgeNd4j", mf::step, mf::tearDown));
                    var raw = new AdamStepBenchmark.RawNd4j();
                    raw.setup();
                    out.add(new Variant("rawNd4j", raw::step, raw::tearDown));
                }
            }
            case "donation" -> {
                for (String backend : List.of("djl", "dl4j")) {
                    if (backend.equals("djl") ? djl : dl4j) {
                        String suffix = backend.equals("djl") ? "Djl" : "Nd4j";
                        var donated = new AdamStepBenchmark.HyperAdamStep(backend, true);
                        out.add(new Variant("metaforge" + suffix, donated::step, donated::close));
                        var plain = new AdamStepBenchmark.HyperAdamStep(backend, false);
                        out.add(new Variant("base" + suffix + "Step", plain::step, plain::close));
                    }
                }
            }
            case "matmul" -> {
                MatmulBenchmark.Size size = new MatmulBenchmark.Size();
                size.n = 1024;
                if (djl) {
                    var mf = new MatmulBenchmark.MetaforgeDjl();
                    mf.setup(size);
                    out.add(new Variant("metaforgeDjl", () -> MatmulBenchmark.metaforge(mf), mf::tearDown));
                    var raw = new MatmulBenchmark.RawDjl();
                    raw.setup(size);
                    out.add(new Variant("rawDjl", () -> MatmulBenchmark.raw(raw), raw::tearDown));
                }
                if (dl4j) {
                    var mf = new MatmulBenchmark.MetaforgeNd4j();
                    mf.setup(size);
                    out.add(new Variant("metaforgeNd4j", () -> MatmulBenchmark.metaforge(mf), mf::tearDown));
                    var raw = new MatmulBenchmark.RawNd4j();
                    raw.setup(size);
                    out.add(new Variant("rawNd4j", () -> MatmulBenchmark.raw(raw), raw::tearDown));
                    out.add(new Variant("rawNd4jMmul", () -> MatmulBenchmark.rawMmul(raw), () -> { }));
                }
            }
            case "gemm" -> {
                // Each backend's two float32 GEMMs in one JVM: the hypernetwork step's five products alone, and the
                // whole step (StepRateMain --workload hyper), on a backend made with gemm=onednn and one made with
                // its native GEMM (libtorch's, OpenBLAS).
                for (String name : List.of("djl", "dl4j")) {
                    if (!(name.equals("djl") ? djl : dl4j)) {
                        continue;
                    }
                    String suffix = name.equals("djl") ? "Djl" : "Nd4j";
                    String nativeGemm = name.equals("djl") ? "libtorch" : "openblas";
                    for (String mode : List.of("onednn", nativeGemm)) {
                        Backend backend = BackendDiscovery.scan(PairedMain.class.getClassLoader()).select(name).chosen()
                                .create(new BackendConfig(Device.CPU, Map.of("gemm", mode)));
                        System.err.println("[bench] gemm=" + mode + ": " + backend);
                        Engine engine = Engine.of(backend, DType.FLOAT32);
                        HyperGemmStep products = new HyperGemmStep(engine);
                        StepRateMain.HyperStep step = new StepRateMain.HyperStep(engine);
                        String tail = mode.equals("onednn") ? "" : mode.substring(0, 1).toUpperCase(Locale.ROOT) + mode.substring(1);
                        String side = mode.equals("onednn") ? "metaforge" : "base";
                        out.add(new Variant(side + "Gemm" + suffix + tail, products::step, products::close));
                        out.add(new Variant(side + "Step" + suffix + tail, step::step, () -> {
                            step.close();
                            backend.close();
                        }));
                    }
                }
            }
            default -> throw new IllegalArgumentException("unknown group '" + group + "'; known: op, mlp, adam, matmul, donation, gemm");
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no variants: --backends must name djl and/or dl4j, got " + backends);
        }
        return out;
    }

    private static void run(String group, List<Variant> variants, int rounds, int warmupRounds, long sliceMillis) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        int n = variants.size();
        double[][] wallPerOp = new double[rounds][n];
        double[][] cpuPerOp = new double[rounds][n];
        Object sink = null;
        for (int round = -warmupRounds; round < rounds; round++) {
            for (int k = 0; k < n; k++) {
                // Rotate the order every round so no variant always follows the same one.
                int v = Math.floorMod(k + round, n);
                Supplier<Object> op = variants.get(v).op();
                long cpuStart = threads.getCurrentThreadCpuTime();
                long start = System.nanoTime();
                long end = start + sliceMillis * 1_000_000L;
                long ops = 0;
                long now;
                do {
                    sink = op.get();
                    ops++;
                    now = System.nanoTime();
                } while (now < end);
                long cpu = threads.getCurrentThreadCpuTime() - cpuStart;
                if (round >= 0) {
                    wallPerOp[round][v] = (now - start) / (double) ops;
                    cpuPerOp[round][v] = cpu / (double) ops;
                }
            }
        }
        if (sink == null) {
            throw new IllegalStateException("no op ran");
        }
        System.out.printf(Locale.ROOT, "%n== paired %s: %d rounds of %d ms slices (after %d warm-up rounds), load %s ==%n", group, rounds,
                sliceMillis, warmupRounds, InterleavedJmh.loadAverage());
        report("wall time", group, variants, wallPerOp);
        report("CPU time of this thread (all kernels run on it with one intra-op thread)", group, variants, cpuPerOp);
    }

    private static void report(String what, String group, List<Variant> variants, double[][] nanosPerOp) {
        int n = variants.size();
        System.out.println("-- " + what);
        System.out.printf(Locale.ROOT, "%-20s %14s%s%n", "variant", "median us/op", group.equals("matmul") ? "      GFLOP/s" : "");
        for (int v = 0; v < n; v++) {
            List<Double> column = new ArrayList<>();
            for (double[] r : nanosPerOp) {
                column.add(r[v]);
            }
            double median = InterleavedJmh.median(column);
            String extra = group.equals("matmul") ? String.format(Locale.ROOT, " %12.1f", MatmulBenchmark.flops(1024) / median) : "";
            System.out.printf(Locale.ROOT, "%-20s %14.3f%s%n", variants.get(v).name(), median / 1e3, extra);
        }
        System.out.printf(Locale.ROOT, "%-20s %-20s %16s %22s%n", "metaforge", "baseline", "median ratio", "IQR of ratios");
        for (int a = 0; a < n; a++) {
            String name = variants.get(a).name();
            if (!name.startsWith("metaforge")) {
                continue;
            }
            String backend = name.substring("metaforge".length());
            for (int b = 0; b < n; b++) {
                if (!variants.get(b).name().startsWith("raw" + backend) && !variants.get(b).name().startsWith("base" + backend)) {
                    continue;
                }
                List<Double> ratios = new ArrayList<>();
                for (double[] r : nanosPerOp) {
                    ratios.add(r[a] / r[b]);
                }
                ratios.sort(null);
                double q1 = ratios.get(ratios.size() / 4);
                double q3 = ratios.get((3 * ratios.size()) / 4);
                System.out.printf(Locale.ROOT, "%-20s %-20s %16.3f %12.3f .. %.3f%n", name, variants.get(b).name(),
                        InterleavedJmh.median(ratios), q1, q3);
            }
        }
    }
}
