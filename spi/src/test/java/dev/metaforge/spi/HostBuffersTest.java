package dev.metaforge.spi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link HostBuffers#sharing} against the truth, which the test knows because every region is a
 * slice of one direct buffer at an offset it chose: two regions share exactly when their offset
 * ranges intersect.
 */
class HostBuffersTest {
    private final ByteBuffer memory = ByteBuffer.allocateDirect(1 << 16);

    private ByteBuffer region(int offset, int length) {
        return memory.slice(offset, length);
    }

    @Test
    void namedCases() {
        ByteBuffer a = region(0, 64);
        ByteBuffer b = region(64, 64);     // touches a, shares nothing
        ByteBuffer c = region(100, 8);     // inside b
        ByteBuffer d = region(1000, 0);    // empty
        ByteBuffer e = ByteBuffer.allocate(16); // heap: address unknown
        ByteBuffer f = region(2000, 32);
        assertArrayEquals(new boolean[] {false, true, true, false, true, true, true},
                HostBuffers.sharing(List.of(a, b, c, d, e, f, f)), "a b c d heap f f");
        // a buffer's position and limit bound its region
        ByteBuffer g = region(4000, 100).position(50);
        ByteBuffer h = region(4000, 50);
        assertArrayEquals(new boolean[] {false, false}, HostBuffers.sharing(List.of(g, h)));
        assertArrayEquals(new boolean[] {true, true}, HostBuffers.sharing(List.of(g, region(4099, 1))));
        // null: an array without memory (an empty one)
        assertArrayEquals(new boolean[] {true, false, true}, HostBuffers.sharing(java.util.Arrays.asList(a, null, a)));
    }

    @Test
    void randomRegionsAgreeWithTheirOffsets() {
        SplittableRandom rng = new SplittableRandom(15);
        for (int trial = 0; trial < 500; trial++) {
            int n = 1 + rng.nextInt(12);
            int[] from = new int[n];
            int[] to = new int[n];
            List<ByteBuffer> buffers = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                from[i] = rng.nextInt(4000);
                to[i] = from[i] + rng.nextInt(rng.nextBoolean() ? 20 : 600);
                buffers.add(region(from[i], to[i] - from[i]));
            }
            boolean[] expected = new boolean[n];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    if (i != j && Math.max(from[i], from[j]) < Math.min(to[i], to[j])) {
                        expected[i] = true;
                    }
                }
            }
            assertArrayEquals(expected, HostBuffers.sharing(buffers), "trial " + trial);
        }
    }
}
