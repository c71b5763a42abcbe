package dev.metaforge.api.random;

/**
 * Philox4x32-10 (Salmon, Moraes, Dror and Shaw, "Parallel random numbers: as easy as 1, 2, 3",
 * SC 2011): a counter-based generator whose output for (key, counter) is a fixed function, so
 * entry i of a random tensor depends only on the seed and i. Metaforge draws initial weights with
 * it in Java, which is why a spec and seed start from the same weights on every backend.
 *
 * <p>Defining property (tested against the paper's known-answer vectors in {@code PhiloxTest}):
 * ten rounds of two 32x32→64-bit multiplications with the key bumped by the Weyl constants.
 *
 * <p>Mapping to values: block {@code b} (counter {@code [b, b >>> 32, 0, 0]}, key = the seed's two
 * halves) gives four 32-bit words; words (0, 1) and (2, 3) each make one uniform double with 53
 * random bits. Entry {@code i} of a uniform tensor is the {@code (i % 2)}-th double of block
 * {@code i / 2}; normal entries come in Box-Muller pairs from the two doubles of one block.
 */
public final class Philox {
    private static final int M0 = 0xD2511F53;
    private static final int M1 = 0xCD9E8D57;
    private static final int W0 = 0x9E3779B9;
    private static final int W1 = 0xBB67AE85;
    private static final double TWO_POW_MINUS_53 = 0x1.0p-53;

    private Philox() {
    }

    /** The four output words of Philox4x32-10 for {@code counter} (4 words) and {@code key} (2 words). */
    public static int[] block(int[] counter, int[] key) {
        int c0 = counter[0];
        int c1 = counter[1];
        int c2 = counter[2];
        int c3 = counter[3];
        int k0 = key[0];
        int k1 = key[1];
        for (int round = 0; round < 10; round++) {
            long p0 = (M0 & 0xFFFFFFFFL) * (c0 & 0xFFFFFFFFL);
            long p1 = (M1 & 0xFFFFFFFFL) * (c2 & 0xFFFFFFFFL);
            int hi0 = (int) (p0 >>> 32);
            int lo0 = (int) p0;
            int hi1 = (int) (p1 >>> 32);
            int lo1 = (int) p1;
            c0 = hi1 ^ c1 ^ k0;
            c1 = lo1;
            c2 = hi0 ^ c3 ^ k1;
            c3 = lo0;
            k0 += W0;
            k1 += W1;
        }
        return new int[] {c0, c1, c2, c3};
    }

    /** {@code n} uniform doubles in [0, 1) for {@code seed}, entry i as described in the class comment. */
    public static double[] uniform(long seed, int n) {
        double[] out = new double[n];
        int[] key = {(int) seed, (int) (seed >>> 32)};
        int[] counter = new int[4];
        for (int i = 0; i < n; i += 2) {
            long b = i >>> 1;
            counter[0] = (int) b;
            counter[1] = (int) (b >>> 32);
            int[] w = block(counter, key);
            out[i] = toDouble(w[0], w[1]);
            if (i + 1 < n) {
                out[i + 1] = toDouble(w[2], w[3]);
            }
        }
        return out;
    }

    /** {@code n} standard normal doubles for {@code seed}: Box-Muller on each block's two uniforms. */
    public static double[] normal(long seed, int n) {
        double[] u = uniform(seed, n + (n & 1));
        double[] out = new double[n];
        for (int i = 0; i < n; i += 2) {
            double radius = Math.sqrt(-2.0 * Math.log(1.0 - u[i]));
            double angle = 2 * Math.PI * u[i + 1];
            out[i] = radius * Math.cos(angle);
            if (i + 1 < n) {
                out[i + 1] = radius * Math.sin(angle);
            }
        }
        return out;
    }

    /** 53 random bits from two words: 27 from the first, 26 from the second. */
    private static double toDouble(int a, int b) {
        long bits = ((long) (a >>> 5) << 26) | (b >>> 6);
        return bits * TWO_POW_MINUS_53;
    }
}
