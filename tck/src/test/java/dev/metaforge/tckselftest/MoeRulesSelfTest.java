package dev.metaforge.tckselftest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.Shape;
import dev.metaforge.tck.ConformanceReport;
import dev.metaforge.tck.RuleStatus;
import dev.metaforge.tck.TckProgress;
import dev.metaforge.tck.TckRunner;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The MOE-* rules catch broken routing primitives: an argsort that is not stable (capacity slots go
 * to the wrong tokens) and a scatterAdd that overwrites instead of accumulating (counts and
 * expert-choice combines go wrong). A kit whose rules pass these is worthless.
 */
class MoeRulesSelfTest {
    private static ConformanceReport run(Class<? extends dev.metaforge.spi.BackendProvider> provider, String name) {
        return new TckRunner(BrokenBackends.loaderFor(provider))
                .run(TckRunner.Options.backend(name).withRules(List.of("MOE-*")), TckProgress.none());
    }

    @Test
    void anUnstableArgsortIsCaught() {
        ConformanceReport report = run(UnstableArgsort.class, "unstable-argsort");
        List<String> failed = report.ruleIds(RuleStatus.FAIL);
        assertTrue(failed.containsAll(List.of("MOE-CAPACITY-1", "MOE-PLAN-2")), report::toMarkdown);
        // Slots only order tokens within an expert: without a capacity the output does not depend on them.
        assertTrue(report.ruleIds(RuleStatus.PASS).containsAll(List.of("MOE-DROPLESS-1", "MOE-AUX-1", "MOE-AUX-2")), report::toMarkdown);
    }

    @Test
    void aScatterAddThatOverwritesIsCaught() {
        ConformanceReport report = run(OverwritingScatter.class, "overwriting-scatter");
        List<String> failed = report.ruleIds(RuleStatus.FAIL);
        // Dropless groups and plans now sum through segmentSum (its own kernel), so the overwriting scatter shows in
        // expert choice's combine and in every gradient (the scatter is the adjoint of the experts' gathers).
        assertTrue(failed.containsAll(List.of("MOE-EC-1", "MOE-GRAD-1", "MOE-GRAD-2", "MOE-MODEL-1")), report::toMarkdown);
        assertEquals(ConformanceReport.Verdict.NOT_CONFORMANT, report.verdict());
    }

    /** argsort that orders equal values by descending index (rank-1 inputs). */
    public static final class UnstableArgsort extends BrokenBackends.TestProvider {
        public UnstableArgsort() {
            super("unstable-argsort", (name, config) -> new BrokenBackends.TestBackend(name, new BrokenBackends.Renamed(name) {
                @Override
                public NativeArray argsort(NativeArray x, int axis, boolean descending) {
                    if (x.shape().rank() != 1) {
                        return super.argsort(x, axis, descending);
                    }
                    double[] v = toDoubles(x);
                    Comparator<Integer> byValue = Comparator.comparingDouble(i -> v[i]);
                    Comparator<Integer> order = (descending ? byValue.reversed() : byValue).thenComparing(Comparator.reverseOrder());
                    long[] idx = IntStream.range(0, v.length).boxed().sorted(order).mapToLong(Integer::longValue).toArray();
                    return fromLongs(idx, Shape.of(v.length));
                }
            }, BrokenBackends.ALL));
        }
    }

    /** scatterAdd along axis 0 where a repeated index keeps only its last update. */
    public static final class OverwritingScatter extends BrokenBackends.TestProvider {
        public OverwritingScatter() {
            super("overwriting-scatter", (name, config) -> new BrokenBackends.TestBackend(name, new BrokenBackends.Renamed(name) {
                @Override
                public NativeArray scatterAdd(NativeArray target, NativeArray indices, NativeArray updates, int axis) {
                    if (axis != 0 || indices.shape().rank() != 1) {
                        return super.scatterAdd(target, indices, updates, axis);
                    }
                    long[] at = toLongs(indices);
                    double[] t = toDoubles(target);
                    double[] u = toDoubles(updates);
                    int row = (int) (target.shape().size() / Math.max(1, target.shape().dim(0)));
                    boolean[] written = new boolean[target.shape().dim(0)];
                    for (int i = 0; i < at.length; i++) {
                        int r = (int) at[i];
                        for (int j = 0; j < row; j++) {
                            t[r * row + j] = (written[r] ? 0 : t[r * row + j]) + u[i * row + j];
                        }
                        written[r] = true;
                    }
                    return fromDoubles(t, target.shape(), target.dtype());
                }
            }, BrokenBackends.ALL));
        }
    }
}
