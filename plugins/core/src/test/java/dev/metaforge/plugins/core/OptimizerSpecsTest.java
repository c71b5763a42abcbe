package dev.metaforge.plugins.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.metaforge.api.optim.Optimizer;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The optimizers the specs build, against the update rules of torch.optim written out in float64. */
class OptimizerSpecsTest {
    private final Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);
    private static final double[] P = {0.5, -1.0, 2.0};
    private static final double[] G1 = {0.1, -0.3, 0.0};
    private static final double[] G2 = {-0.2, 0.4, 1.0};

    private double[][] twoSteps(Optimizer optimizer) {
        try (Scope scope = Scope.open()) {
            Params p0 = Params.of(Map.of("p", engine.tensor(P, 3)));
            Params p1 = optimizer.step(p0, Params.of(Map.of("p", engine.tensor(G1, 3))));
            Params p2 = optimizer.step(p1, Params.of(Map.of("p", engine.tensor(G2, 3))));
            double[][] out = {p1.get("p").toDoubles(), p2.get("p").toDoubles()};
            p1.close();
            p2.close();
            optimizer.close();
            return out;
        }
    }

    @Test
    void sgdWithMomentumAndWeightDecay() {
        double lr = 0.1;
        double mu = 0.9;
        double wd = 0.01;
        double[][] got = twoSteps(new SgdSpec(lr, mu, wd).build());
        for (int i = 0; i < 3; i++) {
            double d1 = G1[i] + wd * P[i];
            double p1 = P[i] - lr * d1;
            double buf = mu * d1 + (G2[i] + wd * p1);
            double p2 = p1 - lr * buf;
            assertEquals(p1, got[0][i], 1e-15);
            assertEquals(p2, got[1][i], 1e-15);
        }
    }

    @Test
    void adamAndAdamW() {
        double lr = 0.01;
        double b1 = 0.8;
        double b2 = 0.95;
        double eps = 1e-6;
        double wd = 0.1;
        for (boolean decoupled : new boolean[] {false, true}) {
            Optimizer optimizer = decoupled ? new AdamWSpec(lr, b1, b2, eps, wd).build() : new AdamSpec(lr, b1, b2, eps, wd).build();
            double[][] got = twoSteps(optimizer);
            for (int i = 0; i < 3; i++) {
                double p = P[i];
                double m = 0;
                double v = 0;
                double[] gs = {G1[i], G2[i]};
                for (int t = 1; t <= 2; t++) {
                    double g = decoupled ? gs[t - 1] : gs[t - 1] + wd * p;
                    m = b1 * m + (1 - b1) * g;
                    v = b2 * v + (1 - b2) * g * g;
                    double mHat = m / (1 - Math.pow(b1, t));
                    double vHat = v / (1 - Math.pow(b2, t));
                    if (decoupled) {
                        p = p * (1 - lr * wd);
                    }
                    p = p - lr * mHat / (Math.sqrt(vHat) + eps);
                    assertEquals(p, got[t - 1][i], 1e-14, (decoupled ? "adamw" : "adam") + " step " + t + " element " + i);
                }
            }
        }
    }
}
