package dev.metaforge.api.random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Philox4x32-10 against the known-answer vectors published with the algorithm (Random123's kat_vectors). */
class PhiloxTest {
    @Test
    void knownAnswerVectors() {
        assertArrayEquals(new int[] {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
                Philox.block(new int[] {0, 0, 0, 0}, new int[] {0, 0}));
        assertArrayEquals(new int[] {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
                Philox.block(new int[] {-1, -1, -1, -1}, new int[] {-1, -1}));
        assertArrayEquals(new int[] {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
                Philox.block(new int[] {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, new int[] {0xa4093822, 0x299f31d0}));
    }

    @Test
    void entriesDependOnlyOnSeedAndIndex() {
        double[] a = Philox.uniform(42, 7);
        double[] b = Philox.uniform(42, 1000);
        for (int i = 0; i < a.length; i++) {
            assertEquals(a[i], b[i], 0, "entry " + i + " must not depend on the tensor's size");
        }
        assertTrue(Philox.uniform(43, 1)[0] != a[0]);
    }

    @Test
    void momentsAreThoseOfTheDistributions() {
        // Closed forms: U[0,1) has mean 1/2 and variance 1/12; N(0,1) mean 0 and variance 1.
        int n = 200_000;
        double[] u = Philox.uniform(7, n);
        double[] z = Philox.normal(7, n);
        double mu = 0;
        double mz = 0;
        for (int i = 0; i < n; i++) {
            assertTrue(u[i] >= 0 && u[i] < 1);
            mu += u[i];
            mz += z[i];
        }
        mu /= n;
        mz /= n;
        double vu = 0;
        double vz = 0;
        for (int i = 0; i < n; i++) {
            vu += (u[i] - mu) * (u[i] - mu);
            vz += (z[i] - mz) * (z[i] - mz);
        }
        vu /= n;
        vz /= n;
        // Tolerances of about 5 standard errors.
        assertEquals(0.5, mu, 5 * Math.sqrt(1.0 / 12 / n));
        assertEquals(1.0 / 12, vu, 0.002);
        assertEquals(0.0, mz, 5 / Math.sqrt(n));
        assertEquals(1.0, vz, 0.02);
    }
}
