package dev.metaforge.plugins.hyper;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.tensor.Engine;
import dev.metaforge.plugins.hyper.MipExperiment.Parametrization;
import dev.metaforge.plugins.hyper.MipExperiment.Result;
import dev.metaforge.plugins.hyper.MipExperiment.Settings;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The MIP claim on the loss-weighting toy: MIP reaches evaluation MSE 0.01 in at most half the
 * steps of the default parametrization (raw γ, θ = H(γ), same Kaiming fan-out init).
 */
class MipClaimTest {
    @Test
    void mipNeedsAtMostHalfTheStepsOfTheDefaultForOneSeed() {
        // Fast form of the claim: run MIP to the threshold, then run the default only up to twice
        // that; it must not get there (steps are counted at evaluation points every 5 steps).
        Engine engine = HyperFixtures.engine();
        Settings paper = Settings.paper();
        Result mip = MipExperiment.run(engine, Parametrization.MIP, 0, paper);
        assertTrue(mip.reached(), MipExperiment.describe(mip));
        Settings capped = new Settings(paper.contexts(), paper.points(), paper.learningRate(), paper.threshold(),
                (int) (2 * mip.stepsToThreshold() - 1), paper.evaluateEvery());
        Result base = MipExperiment.run(engine, Parametrization.DEFAULT, 0, capped);
        System.out.println(MipExperiment.describe(mip) + "\n" + MipExperiment.describe(base));
        assertFalse(base.reached(), "the default reached MSE " + paper.threshold() + " within twice MIP's "
                + mip.stepsToThreshold() + " steps: " + MipExperiment.describe(base));
    }

    @Test
    @Tag("slow")
    void mipNeedsAtMostHalfTheStepsOfTheDefaultMedianOverThreeSeeds() {
        Engine engine = HyperFixtures.engine();
        Settings paper = Settings.paper();
        List<Result> mip = new ArrayList<>();
        List<Result> base = new ArrayList<>();
        for (long seed = 0; seed < 3; seed++) {
            mip.add(MipExperiment.run(engine, Parametrization.MIP, seed, paper));
            base.add(MipExperiment.run(engine, Parametrization.DEFAULT, seed, paper));
            System.out.println(MipExperiment.describe(mip.get(mip.size() - 1)) + "\n" + MipExperiment.describe(base.get(base.size() - 1)));
        }
        long m = MipExperiment.medianSteps(mip, paper);
        long d = MipExperiment.medianSteps(base, paper);
        System.out.println("median steps to MSE 0.01: MIP " + m + ", default " + d);
        assertTrue(m <= paper.maxSteps(), "MIP never reached the threshold");
        assertTrue(2 * m <= d, "median steps: MIP " + m + ", default " + d);
    }
}
