package dev.metaforge.plugins.meta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.NoGrad;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The classic leak of Python meta-learning libraries (graphs of the inner loop kept alive across
 * meta-iterations) must not happen here: over thousands of second-order MAML meta-iterations the
 * number of open backend arrays, counted by a decorator of the backend's kernels, is the same
 * after every iteration, and nothing escapes into the enclosing scope.
 */
class MetaMemoryTest {
    @Test
    void secondOrderMetaTrainingKeepsOpenArraysFlatOverThousandsOfIterations() {
        CountingBackend backend = new CountingBackend(new ReferenceBackend());
        Engine engine = Engine.of(backend, DType.FLOAT32);
        int iterations = 3000;
        List<Integer> open = new ArrayList<>();
        int before;
        try (Scope outer = Scope.open()) {
            int ownedBefore = outer.ownedCount();
            before = backend.openArrays();
            List<Integer> owned = new ArrayList<>();
            double loss = MamlSinusoid.runMetaIterations(engine, iterations, (step, l) -> {
                open.add(backend.openArrays());
                owned.add(outer.ownedCount());
            });
            assertTrue(Double.isFinite(loss), "meta-loss " + loss);
            assertEquals(iterations, open.size());
            // Live between iterations: the parameters (6 tensors) and Adam's two moments of each;
            // nothing of the inner loop or its graph.
            int steady = open.get(0);
            assertEquals(3 * 6, steady, "open arrays after the first iteration: params, Adam m and v");
            assertEquals(ownedBefore, owned.get(0), "nothing is left in the enclosing scope");
            for (int i = 0; i < open.size(); i++) {
                assertEquals(steady, open.get(i), "open arrays after iteration " + i);
                assertEquals(owned.get(0), owned.get(i), "tensors owned by the enclosing scope after iteration " + i);
            }
        }
        assertEquals(before, backend.openArrays(), "everything the run allocated is freed when it returns");
    }

    @Test
    void evaluationFreesWhatItAllocates() {
        CountingBackend backend = new CountingBackend(new ReferenceBackend());
        Engine engine = Engine.of(backend, DType.FLOAT32);
        MetaObjective objective = MamlSinusoid.objective(engine, false, 100, List.of(1, 10));
        try (Scope scope = Scope.open()) {
            var params = objective.init(dev.metaforge.api.random.RandomStream.of(0));
            int before = backend.openArrays();
            objective.evaluate(params);
            try (NoGrad ignored = NoGrad.enter()) {
                objective.evaluate(params);
            }
            assertEquals(before, backend.openArrays(), "open arrays after two evaluations, one inside NoGrad");
            assertEquals(6, scope.ownedCount(), "only the parameters belong to the scope");
        }
    }
}
