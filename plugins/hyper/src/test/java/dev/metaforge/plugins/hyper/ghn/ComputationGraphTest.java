package dev.metaforge.plugins.hyper.ghn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.BatchNorm;
import dev.metaforge.api.nn.Conv2d;
import dev.metaforge.api.nn.Linear;
import dev.metaforge.api.nn.Residual;
import dev.metaforge.api.nn.Sequential;
import java.util.List;
import org.junit.jupiter.api.Test;

class ComputationGraphTest {
    @Test
    void chainHasOneEdgePerLayerAndParameterShapes() {
        ComputationGraph g = ComputationGraph.of(Sequential.of(Conv2d.of(1, 4, 3), Activation.RELU));
        assertEquals(List.of("input", "conv2d", "activation"), g.nodes().stream().map(ComputationGraph.Node::kind).toList());
        assertEquals(List.of(new ComputationGraph.Edge(0, 1), new ComputationGraph.Edge(1, 2)), g.edges());
        assertArrayEquals(new int[] {4, 1, 3, 3}, g.nodes().get(1).params().get("weight"));
        assertEquals(ComputationGraph.KINDS.indexOf("conv2d"), g.nodes().get(1).type());
    }

    @Test
    void residualAddGetsTheSkipEdgeFromTheBlockInput() {
        // input -> linear(0) -> [bn, linear] residual: the residual node reads the branch and the stream before it.
        ComputationGraph g = ComputationGraph.of(Sequential.of(Linear.of(2, 3),
                new Residual(Sequential.of(BatchNorm.of(3), Linear.of(3, 3)))));
        int res = g.nodes().size() - 1;
        assertEquals("residual", g.nodes().get(res).kind());
        int linear0 = 1;
        int innerLinear = res - 1;
        assertEquals("linear", g.nodes().get(innerLinear).kind());
        assertEquals(List.of(innerLinear, linear0), g.predecessors(res).stream().sorted((a, b) -> b - a).toList());
    }

    @Test
    void topLevelResidualSkipsFromTheInputNode() {
        // The branch starts with an in-place BatchNorm on the stream; the skip must still come from the input.
        ComputationGraph g = ComputationGraph.of(new Residual(Sequential.of(BatchNorm.of(3), Linear.of(3, 3))));
        int res = g.nodes().size() - 1;
        assertEquals(List.of(0, res - 1), g.predecessors(res).stream().sorted().toList());
    }
}
